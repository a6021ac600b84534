#include "nsaCommandLine.h"

#include "nsaError.h"

#include <expat.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <sstream>

namespace nsa
{

namespace
{

const char * const ScalarTags[] = { "integer", "float", "double", "boolean", "string",
                                    "integer-vector", "float-vector", "double-vector", "string-vector",
                                    "boolean-vector", "integer-enumeration", "float-enumeration",
                                    "double-enumeration", "string-enumeration", "point", "point-vector",
                                    "region", "region-vector", "pointfile", "directory", "file", "image",
                                    "transform", "geometry", "table", "measurement" };

bool
IsParameterTag(const std::string & tag)
{
  for (const char * candidate : ScalarTags)
  {
    if (tag == candidate)
    {
      return true;
    }
  }
  return false;
}

std::string
Trim(const std::string & text)
{
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
  {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

/** SAX state: element stack, current group label, current parameter, character data. */
struct ParserState
{
  ModuleDescription                     description;
  std::vector<std::string>              stack;
  std::string                           text;
  std::string                           groupLabel;
  std::unique_ptr<ParameterDescription> parameter;
  std::string                           error;
};

double
ParseConstraint(const std::string & text, const std::string & what, const std::string & parameter)
{
  char *       end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0')
  {
    throw Error("module description: constraint " + what + " of '" + parameter + "' is not a number: '" + text +
                "'");
  }
  return value;
}

void XMLCALL
StartElement(void * data, const XML_Char * name, const XML_Char ** attributes)
{
  auto & state = *static_cast<ParserState *>(data);
  const std::string tag(name);
  state.text.clear();
  const std::string parent = state.stack.empty() ? std::string() : state.stack.back();
  state.stack.push_back(tag);
  if (parent == "parameters" && IsParameterTag(tag))
  {
    state.parameter = std::make_unique<ParameterDescription>();
    state.parameter->tag = tag;
    state.parameter->group = state.groupLabel;
    for (int i = 0; attributes[i]; i += 2)
    {
      if (std::string(attributes[i]) == "multiple")
      {
        state.parameter->multiple = std::string(attributes[i + 1]) == "true";
      }
    }
  }
  else if (tag == "parameters")
  {
    state.groupLabel.clear();
  }
}

void XMLCALL
EndElement(void * data, const XML_Char * name)
{
  auto &            state = *static_cast<ParserState *>(data);
  const std::string tag(name);
  const std::string value = Trim(state.text);
  state.text.clear();
  state.stack.pop_back();
  const std::string parent = state.stack.empty() ? std::string() : state.stack.back();

  if (state.parameter)
  {
    ParameterDescription & p = *state.parameter;
    if (parent == "parameters" && tag == p.tag)
    {
      if (p.name.empty())
      {
        throw Error("module description: a <" + p.tag + "> parameter has no <name>");
      }
      state.description.parameters.push_back(std::move(p));
      state.parameter.reset();
    }
    else if (tag == "name")
      p.name = value;
    else if (tag == "flag")
      p.flag = value.size() > 1 && value[0] == '-' ? value.substr(1) : value;
    else if (tag == "longflag")
      p.longflag = value.rfind("--", 0) == 0 ? value.substr(2) : value;
    else if (tag == "label")
      p.label = value;
    else if (tag == "description")
      p.description = value;
    else if (tag == "default")
    {
      p.defaultValue = value;
      p.hasDefault = true;
    }
    else if (tag == "channel")
      p.channel = value;
    else if (tag == "index")
      p.index = std::atoi(value.c_str());
    else if (tag == "element")
      p.elements.push_back(value);
    else if (tag == "minimum")
      p.minimum = ParseConstraint(value, "minimum", p.name);
    else if (tag == "maximum")
      p.maximum = ParseConstraint(value, "maximum", p.name);
    return;
  }
  if (parent == "parameters" && tag == "label")
  {
    state.groupLabel = value;
  }
  else if (parent == "executable")
  {
    auto & d = state.description;
    if (tag == "category")
      d.category = value;
    else if (tag == "title")
      d.title = value;
    else if (tag == "description")
      d.description = value;
    else if (tag == "version")
      d.version = value;
    else if (tag == "documentation-url")
      d.documentationUrl = value;
    else if (tag == "license")
      d.license = value;
    else if (tag == "contributor")
      d.contributor = value;
  }
}

void XMLCALL
CharacterData(void * data, const XML_Char * text, int length)
{
  static_cast<ParserState *>(data)->text.append(text, static_cast<std::size_t>(length));
}

} // namespace

bool
ParameterDescription::IsReturnParameter() const
{
  if (index >= 0 || !flag.empty() || !longflag.empty())
  {
    return false;
  }
  // Slicer marks return parameters with <channel>output</channel> (every program here
  // does); a scalar without flag and index and without a channel is read as one too.
  return channel.empty() || channel == "output";
}

bool
ParameterDescription::IsVector() const
{
  return tag.size() > 7 && tag.compare(tag.size() - 7, 7, "-vector") == 0;
}

ModuleDescription
ModuleDescription::Parse(const std::string & xml)
{
  ParserState state;
  XML_Parser  parser = XML_ParserCreate(nullptr);
  if (!parser)
  {
    throw Error("module description: cannot create the XML parser");
  }
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> guard(parser, &XML_ParserFree);
  XML_SetUserData(parser, &state);
  XML_SetElementHandler(parser, &StartElement, &EndElement);
  XML_SetCharacterDataHandler(parser, &CharacterData);
  if (XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), XML_TRUE) == XML_STATUS_ERROR)
  {
    std::ostringstream message;
    message << "module description: XML error at line " << XML_GetCurrentLineNumber(parser) << ": "
            << XML_ErrorString(XML_GetErrorCode(parser));
    throw Error(message.str());
  }
  // Each name is used once; flags are unique.
  for (std::size_t i = 0; i < state.description.parameters.size(); ++i)
  {
    for (std::size_t j = i + 1; j < state.description.parameters.size(); ++j)
    {
      const auto & a = state.description.parameters[i];
      const auto & b = state.description.parameters[j];
      if (a.name == b.name || (!a.longflag.empty() && a.longflag == b.longflag) ||
          (!a.flag.empty() && a.flag == b.flag) || (a.index >= 0 && a.index == b.index))
      {
        throw Error("module description: parameters '" + a.name + "' and '" + b.name +
                    "' share a name, flag or index");
      }
    }
  }
  return std::move(state.description);
}

const ParameterDescription *
ModuleDescription::Find(const std::string & name) const
{
  for (const auto & parameter : parameters)
  {
    if (parameter.name == name)
    {
      return &parameter;
    }
  }
  return nullptr;
}

namespace
{

std::string
WrapText(const std::string & text, std::size_t indent, std::size_t width)
{
  std::istringstream words(text);
  std::string        word, line, result;
  const std::string  pad(indent, ' ');
  while (words >> word)
  {
    if (!line.empty() && pad.size() + line.size() + 1 + word.size() > width)
    {
      result += pad + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty())
  {
    result += pad + line + "\n";
  }
  return result;
}

std::string
ValuePlaceholder(const ParameterDescription & p)
{
  if (p.IsBoolean())
    return "";
  if (p.tag.rfind("integer", 0) == 0)
    return p.IsVector() ? " <int,int,...>" : " <int>";
  if (p.tag.rfind("float", 0) == 0 || p.tag.rfind("double", 0) == 0)
    return p.IsVector() ? " <x,y,...>" : " <number>";
  if (p.tag == "image" || p.tag == "file" || p.tag == "transform" || p.tag == "table")
    return " <file>";
  if (p.tag == "directory")
    return " <folder>";
  return p.IsVector() ? " <a,b,...>" : " <text>";
}

} // namespace

std::string
ModuleDescription::HelpText(const std::string & programName) const
{
  std::ostringstream help;
  std::vector<const ParameterDescription *> positional;
  for (const auto & p : parameters)
  {
    if (p.index >= 0)
    {
      positional.push_back(&p);
    }
  }
  std::sort(positional.begin(), positional.end(), [](auto a, auto b) { return a->index < b->index; });
  help << "Usage: " << programName << " [options]";
  for (const auto * p : positional)
  {
    help << " <" << p->name << ">";
  }
  help << "\n\n" << title << " (version " << version << ")\n" << WrapText(description, 2, 90);
  std::string currentGroup = "\x01";
  for (const auto & p : parameters)
  {
    if (p.group != currentGroup)
    {
      currentGroup = p.group;
      help << "\n" << (currentGroup.empty() ? std::string("Parameters") : currentGroup) << ":\n";
    }
    std::string head;
    if (p.index >= 0)
    {
      head = "<" + p.name + ">  (position " + std::to_string(p.index + 1) + ", " +
             (p.channel.empty() ? std::string("input") : p.channel) + ")";
    }
    else if (p.IsReturnParameter())
    {
      head = p.name + "  (result, written to --returnparameterfile)";
    }
    else
    {
      if (!p.flag.empty())
        head += "-" + p.flag + (p.longflag.empty() ? "" : ", ");
      if (!p.longflag.empty())
        head += "--" + p.longflag;
      head += ValuePlaceholder(p);
    }
    help << "  " << head << "\n";
    std::string details = p.description;
    if (p.hasDefault && !p.defaultValue.empty() && !p.IsBoolean())
      details += " Default: " + p.defaultValue + ".";
    if (p.minimum || p.maximum)
    {
      std::ostringstream range;
      range << " Range: [";
      if (p.minimum)
        range << *p.minimum;
      else
        range << "-inf";
      range << ", ";
      if (p.maximum)
        range << *p.maximum;
      else
        range << "inf";
      range << "].";
      details += range.str();
    }
    if (!p.elements.empty())
    {
      details += " One of:";
      for (const auto & e : p.elements)
        details += " " + e;
      details += ".";
    }
    help << WrapText(details, 6, 90);
  }
  help << "\nStandard options:\n"
       << "  -h, --help                     print this help and exit\n"
       << "  --version                      print the version and exit\n"
       << "  --xml                          print the Slicer module description and exit\n"
       << "  --returnparameterfile <file>   write results as 'name = value' lines (Slicer)\n"
       << "  --processinformationaddress <address>   accepted and ignored (Slicer)\n";
  return help.str();
}

} // namespace nsa
