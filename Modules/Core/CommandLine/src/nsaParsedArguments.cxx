#include "nsaCommandLine.h"

#include "nsaError.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace nsa
{

namespace
{

std::string
FlagName(const ParameterDescription & p)
{
  if (!p.longflag.empty())
    return "--" + p.longflag;
  if (!p.flag.empty())
    return "-" + p.flag;
  if (p.index >= 0)
    return "<" + p.name + "> (argument " + std::to_string(p.index + 1) + ")";
  return p.name;
}

std::vector<std::string>
SplitList(const std::string & text)
{
  std::vector<std::string> items;
  if (text.empty())
  {
    return items;
  }
  std::stringstream stream(text);
  std::string       item;
  while (std::getline(stream, item, ','))
  {
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    items.push_back(first == std::string::npos ? std::string() : item.substr(first, last - first + 1));
  }
  if (text.back() == ',')
  {
    items.emplace_back();
  }
  return items;
}

/** A decimal integer that fits the `int` every program reads it into: no leading
 * white space, no trailing characters, no overflow (strtol alone would let 4294967299
 * through, and the cast to int would make it 3). */
bool
ParseInteger(const std::string & text, long & value)
{
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])))
    return false;
  errno = 0;
  char * end = nullptr;
  const long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0' || parsed < std::numeric_limits<int>::min() ||
      parsed > std::numeric_limits<int>::max())
    return false;
  value = static_cast<long>(parsed);
  return true;
}

/** A finite decimal number: no leading white space, no trailing characters, no overflow
 * (1e400), no NaN or infinity, no hexadecimal form. */
bool
ParseReal(const std::string & text, double & value)
{
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ||
      text.find_first_of("xX") != std::string::npos)
    return false;
  errno = 0;
  char * end = nullptr;
  value = std::strtod(text.c_str(), &end);
  // ERANGE also flags results below the normal range (1e-310); those are kept as parsed
  // unless they overflowed.
  const bool overflow = errno == ERANGE && std::abs(value) == HUGE_VAL;
  return !overflow && end && *end == '\0' && std::isfinite(value);
}

bool
ParseBoolean(const std::string & text, bool & value)
{
  if (text == "true" || text == "1" || text == "yes" || text == "on")
  {
    value = true;
    return true;
  }
  if (text == "false" || text == "0" || text == "no" || text == "off")
  {
    value = false;
    return true;
  }
  return false;
}

bool
IsIntegerTag(const std::string & tag)
{
  return tag == "integer" || tag == "integer-vector" || tag == "integer-enumeration";
}

bool
IsRealTag(const std::string & tag)
{
  return tag == "float" || tag == "double" || tag == "float-vector" || tag == "double-vector" ||
         tag == "float-enumeration" || tag == "double-enumeration" || tag == "point" || tag == "region";
}

/** Checks one value (one element of a vector) against the parameter's type and constraints. */
void
CheckValue(const ParameterDescription & p, const std::string & value)
{
  const std::string where = FlagName(p);
  if (IsIntegerTag(p.tag))
  {
    long number = 0;
    if (!ParseInteger(value, number))
    {
      throw ParameterError(where + ": expected an integer from " + std::to_string(std::numeric_limits<int>::min()) +
                           " to " + std::to_string(std::numeric_limits<int>::max()) + ", got '" + value + "'");
    }
    if ((p.minimum && number < *p.minimum) || (p.maximum && number > *p.maximum))
    {
      std::ostringstream message;
      message << where << ": " << value << " is out of range [" << (p.minimum ? *p.minimum : -INFINITY) << ", "
              << (p.maximum ? *p.maximum : INFINITY) << "]";
      throw ParameterError(message.str());
    }
  }
  else if (IsRealTag(p.tag))
  {
    double number = 0;
    if (!ParseReal(value, number))
    {
      throw ParameterError(where + ": expected a finite number, got '" + value + "'");
    }
    if ((p.minimum && number < *p.minimum) || (p.maximum && number > *p.maximum))
    {
      std::ostringstream message;
      message << where << ": " << value << " is out of range [" << (p.minimum ? *p.minimum : -INFINITY) << ", "
              << (p.maximum ? *p.maximum : INFINITY) << "]";
      throw ParameterError(message.str());
    }
  }
  else if (p.tag == "boolean")
  {
    bool flag = false;
    if (!ParseBoolean(value, flag))
    {
      throw ParameterError(where + ": expected true or false, got '" + value + "'");
    }
  }
  if (!p.elements.empty())
  {
    for (const auto & element : p.elements)
    {
      if (element == value)
      {
        return;
      }
    }
    std::string choices;
    for (const auto & element : p.elements)
    {
      choices += (choices.empty() ? "" : ", ") + element;
    }
    throw ParameterError(where + ": '" + value + "' is not one of " + choices);
  }
}

void
CheckParameterValue(const ParameterDescription & p, const std::string & value)
{
  if (p.IsVector() || p.tag == "point" || p.tag == "region")
  {
    for (const auto & element : SplitList(value))
    {
      if (element.empty())
      {
        throw ParameterError(FlagName(p) + ": empty element in list '" + value + "'");
      }
      CheckValue(p, element);
    }
  }
  else
  {
    CheckValue(p, value);
  }
}

} // namespace

ParsedArguments::ParsedArguments(const ModuleDescription & description, const std::vector<std::string> & arguments)
  : m_Description(&description)
{
  // Defaults first; a given value replaces them.
  for (const auto & p : description.parameters)
  {
    if (p.IsBoolean() && !p.IsReturnParameter())
    {
      // Slicer passes booleans as bare switches: absent means false.
      m_Values[p.name] = p.hasDefault ? p.defaultValue : "false";
    }
    else if (p.hasDefault && !p.IsReturnParameter())
    {
      m_Values[p.name] = p.defaultValue;
    }
  }

  std::vector<const ParameterDescription *> positional;
  for (const auto & p : description.parameters)
  {
    if (p.index >= 0)
    {
      positional.push_back(&p);
    }
  }
  std::sort(positional.begin(), positional.end(), [](auto a, auto b) { return a->index < b->index; });

  auto findFlag = [&](const std::string & token, bool isLong) -> const ParameterDescription * {
    for (const auto & p : description.parameters)
    {
      if (p.index < 0 && ((isLong && p.longflag == token) || (!isLong && p.flag == token)))
      {
        return &p;
      }
    }
    return nullptr;
  };

  std::size_t nextPositional = 0;
  bool        optionsEnded = false;
  for (std::size_t i = 0; i < arguments.size(); ++i)
  {
    const std::string & token = arguments[i];
    const bool          isOption = !optionsEnded && token.size() > 1 && token[0] == '-' &&
                          !(token.size() > 1 && (std::isdigit(static_cast<unsigned char>(token[1])) || token[1] == '.'));
    if (!optionsEnded && token == "--")
    {
      optionsEnded = true;
      continue;
    }
    if (!isOption)
    {
      if (nextPositional >= positional.size())
      {
        throw ParameterError("unexpected argument '" + token + "' (this program takes " +
                             std::to_string(positional.size()) + " positional argument" +
                             (positional.size() == 1 ? "" : "s") + ")");
      }
      const ParameterDescription & p = *positional[nextPositional++];
      CheckParameterValue(p, token);
      m_Values[p.name] = token;
      m_Given[p.name] = true;
      continue;
    }
    const bool  isLong = token.rfind("--", 0) == 0;
    std::string name = token.substr(isLong ? 2 : 1);
    std::string value;
    bool        hasInlineValue = false;
    if (const auto equals = name.find('='); equals != std::string::npos)
    {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
      hasInlineValue = true;
    }
    auto takeValue = [&]() -> std::string {
      if (hasInlineValue)
      {
        return value;
      }
      if (i + 1 >= arguments.size())
      {
        throw ParameterError(token + ": missing value");
      }
      return arguments[++i];
    };
    if (isLong && name == "returnparameterfile")
    {
      m_ReturnParameterFile = takeValue();
      continue;
    }
    if (isLong && name == "processinformationaddress")
    {
      takeValue(); // Slicer's shared-memory address: accepted, not used
      continue;
    }
    const ParameterDescription * p = findFlag(name, isLong);
    if (!p)
    {
      throw ParameterError("unknown option '" + token + "' (see --help)");
    }
    if (p->IsBoolean())
    {
      std::string text = hasInlineValue ? value : "true";
      CheckParameterValue(*p, text);
      bool flag = false;
      ParseBoolean(text, flag);
      m_Values[p->name] = flag ? "true" : "false";
      m_Given[p->name] = true;
      continue;
    }
    const std::string text = takeValue();
    if (m_Given.count(p->name) && !p->multiple)
    {
      throw ParameterError(FlagName(*p) + " is given more than once");
    }
    CheckParameterValue(*p, text);
    if (m_Given.count(p->name) && p->multiple)
    {
      m_Values[p->name] += "," + text;
    }
    else
    {
      m_Values[p->name] = text;
    }
    m_Given[p->name] = true;
  }
  if (nextPositional < positional.size())
  {
    const ParameterDescription & missing = *positional[nextPositional];
    throw ParameterError("missing argument <" + missing.name + "> (" + missing.label + "), position " +
                         std::to_string(missing.index + 1) + "; see --help");
  }
  // Defaults are checked too: a description with an invalid default is a bug worth naming.
  for (const auto & p : description.parameters)
  {
    if (!m_Given.count(p.name) && m_Values.count(p.name) && !m_Values[p.name].empty())
    {
      CheckParameterValue(p, m_Values[p.name]);
    }
  }
}

const ParameterDescription &
ParsedArguments::Lookup(const std::string & name) const
{
  const ParameterDescription * p = m_Description ? m_Description->Find(name) : nullptr;
  if (!p)
  {
    throw Error("program error: no parameter named '" + name + "' in the module description");
  }
  return *p;
}

bool
ParsedArguments::IsSet(const std::string & name) const
{
  Lookup(name);
  return m_Values.count(name) > 0;
}

bool
ParsedArguments::WasGiven(const std::string & name) const
{
  Lookup(name);
  return m_Given.count(name) > 0;
}

const std::string &
ParsedArguments::Raw(const std::string & name) const
{
  const ParameterDescription & p = Lookup(name);
  auto                         it = m_Values.find(name);
  if (it == m_Values.end())
  {
    throw ParameterError(FlagName(p) + " is required here but was not given");
  }
  return it->second;
}

std::string
ParsedArguments::GetString(const std::string & name) const
{
  return Raw(name);
}

int
ParsedArguments::GetInteger(const std::string & name) const
{
  long value = 0;
  if (!ParseInteger(Raw(name), value))
  {
    throw ParameterError(FlagName(Lookup(name)) + ": expected an integer, got '" + Raw(name) + "'");
  }
  return static_cast<int>(value);
}

double
ParsedArguments::GetDouble(const std::string & name) const
{
  double value = 0;
  if (!ParseReal(Raw(name), value))
  {
    throw ParameterError(FlagName(Lookup(name)) + ": expected a number, got '" + Raw(name) + "'");
  }
  return value;
}

bool
ParsedArguments::GetBoolean(const std::string & name) const
{
  bool value = false;
  if (!ParseBoolean(Raw(name), value))
  {
    throw ParameterError(FlagName(Lookup(name)) + ": expected true or false, got '" + Raw(name) + "'");
  }
  return value;
}

std::vector<double>
ParsedArguments::GetDoubleVector(const std::string & name) const
{
  std::vector<double> values;
  for (const auto & item : SplitList(Raw(name)))
  {
    double value = 0;
    if (!ParseReal(item, value))
    {
      throw ParameterError(FlagName(Lookup(name)) + ": expected numbers, got '" + Raw(name) + "'");
    }
    values.push_back(value);
  }
  return values;
}

std::vector<int>
ParsedArguments::GetIntegerVector(const std::string & name) const
{
  std::vector<int> values;
  for (const auto & item : SplitList(Raw(name)))
  {
    long value = 0;
    if (!ParseInteger(item, value))
    {
      throw ParameterError(FlagName(Lookup(name)) + ": expected integers, got '" + Raw(name) + "'");
    }
    values.push_back(static_cast<int>(value));
  }
  return values;
}

std::vector<std::string>
ParsedArguments::GetStringVector(const std::string & name) const
{
  return SplitList(Raw(name));
}

} // namespace nsa
