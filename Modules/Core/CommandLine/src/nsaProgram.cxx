#include "nsaCommandLine.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"
#include "nsaPreset.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace nsa
{

CommandLineProgress::CommandLineProgress(std::string programName, bool slicerTags, std::ostream & out, std::ostream & err)
  : m_ProgramName(std::move(programName))
  , m_SlicerTags(slicerTags)
  , m_Out(out)
  , m_Err(err)
{}

void
CommandLineProgress::StartStage(const std::string & name)
{
  m_Stage = name;
  m_LastPermille = -1;
  if (m_SlicerTags)
  {
    m_Out << "<filter-start>\n<filter-name>" << m_ProgramName << "</filter-name>\n<filter-comment>" << name
          << "</filter-comment>\n</filter-start>" << std::endl;
  }
  else
  {
    this->Report(0.0);
  }
}

void
CommandLineProgress::Report(double fraction)
{
  if (!(fraction >= 0.0))
  {
    fraction = 0.0;
  }
  fraction = std::min(fraction, 1.0);
  const int permille = static_cast<int>(std::lround(fraction * 1000.0));
  if (permille == m_LastPermille)
  {
    return; // nothing visible changed; keeps Slicer's log and the terminal quiet
  }
  m_LastPermille = permille;
  if (m_SlicerTags)
  {
    m_Out << "<filter-progress>" << std::fixed << std::setprecision(3) << fraction << std::defaultfloat
          << "</filter-progress>" << std::endl;
  }
  else
  {
    constexpr int width = 30;
    const int     filled = static_cast<int>(fraction * width);
    m_Err << "\r" << m_Stage << " [" << std::string(filled, '#') << std::string(width - filled, '.') << "] "
          << std::setw(3) << static_cast<int>(fraction * 100.0) << "%" << std::flush;
  }
}

void
CommandLineProgress::EndStage()
{
  if (m_SlicerTags)
  {
    m_Out << "<filter-end>\n<filter-name>" << m_ProgramName << "</filter-name>\n</filter-end>" << std::endl;
  }
  else
  {
    this->Report(1.0);
    m_Err << "\n" << std::flush;
  }
  m_Stage.clear();
}

void
CommandLineProgress::Message(const std::string & text)
{
  if (!m_SlicerTags && !m_Stage.empty())
  {
    m_Err << "\n";
    m_LastPermille = -1;
  }
  m_Err << text << std::endl;
}

ProgramContext::ProgramContext(const ModuleDescription & description,
                               ParsedArguments           arguments,
                               ProgressObserver &        progress)
  : m_Description(description)
  , m_Arguments(std::move(arguments))
  , m_Progress(progress)
{}

void
ProgramContext::SetReturnValue(const std::string & name, const std::string & value)
{
  const ParameterDescription * p = m_Description.Find(name);
  if (!p || !p->IsReturnParameter())
  {
    throw Error("program error: '" + name + "' is not a return parameter of the module description");
  }
  for (auto & entry : m_ReturnValues)
  {
    if (entry.first == name)
    {
      entry.second = value;
      return;
    }
  }
  m_ReturnValues.emplace_back(name, value);
}

void
ProgramContext::SetReturnValue(const std::string & name, double value)
{
  std::ostringstream text;
  text << std::setprecision(17) << value;
  this->SetReturnValue(name, text.str());
}

void
ProgramContext::SetReturnValue(const std::string & name, int value)
{
  this->SetReturnValue(name, std::to_string(value));
}

void
ProgramContext::SetReturnValue(const std::string & name, bool value)
{
  this->SetReturnValue(name, std::string(value ? "true" : "false"));
}

namespace
{

std::string
BaseName(const std::string & path)
{
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

int
RunProgram(const char *                                  xmlDescription,
           const std::vector<std::string> &              arguments,
           const std::function<void(ProgramContext &)> & body,
           std::ostream &                                out,
           std::ostream &                                err,
           bool                                          terminal)
{
  const std::string programName = arguments.empty() ? std::string("program") : BaseName(arguments[0]);
  const std::vector<std::string> rest(arguments.empty() ? arguments.end() : arguments.begin() + 1, arguments.end());

  // --xml is answered first, with nothing printed before it (Slicer reads stdout whole).
  for (const auto & argument : rest)
  {
    if (argument == "--xml")
    {
      out << xmlDescription;
      out.flush();
      return 0;
    }
  }

  ModuleDescription description;
  try
  {
    description = ModuleDescription::Parse(xmlDescription);
  }
  catch (const std::exception & error)
  {
    err << programName << ": internal error: " << error.what() << std::endl;
    return 1;
  }

  for (const auto & argument : rest)
  {
    if (argument == "--help" || argument == "-h")
    {
      out << description.HelpText(programName);
      return 0;
    }
    if (argument == "--version")
    {
      out << programName << " " << description.version << " (NSA Toolkit " << Version() << ")\n";
      return 0;
    }
  }

  ParsedArguments parsed;
  try
  {
    parsed = ParsedArguments(description, rest);
  }
  catch (const std::exception & error)
  {
    err << programName << ": error: " << error.what() << "\n"
        << "Run '" << programName << " --help' for the list of parameters." << std::endl;
    return 2;
  }

  const std::string   returnParameterFile = parsed.ReturnParameterFile();
  CommandLineProgress progress(programName, !terminal, out, err);
  ProgramContext      context(description, std::move(parsed), progress);
  try
  {
    if (!returnParameterFile.empty())
    {
      AtomicOutput check(returnParameterFile); // fail before the work if it cannot be written
    }
    body(context);
    std::string returnText;
    for (const auto & [name, value] : context.ReturnValues())
    {
      returnText += name + " = " + value + "\n";
    }
    if (!returnParameterFile.empty())
    {
      WriteTextFileAtomically(returnParameterFile, returnText);
    }
    else if (terminal)
    {
      err << returnText;
    }
    else
    {
      out << returnText;
    }
  }
  catch (const std::exception & error)
  {
    std::string message = UserMessage(error);
    // itk::ExceptionObject::what() starts with the file and line of the throw; users need
    // the description that follows it.
    const std::string marker = "\nDescription: ";
    if (const auto at = message.find(marker); at != std::string::npos && message.find("itk::ERROR") == std::string::npos)
    {
      message = message.substr(at + marker.size());
    }
    else if (const auto itkAt = message.find("itk::ERROR: "); itkAt != std::string::npos)
    {
      message = message.substr(itkAt + 12);
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    {
      message.pop_back();
    }
    err << (terminal ? "\n" : "") << programName << ": error: " << message << std::endl;
    return 1;
  }
  catch (...)
  {
    err << programName << ": error: unknown exception" << std::endl;
    return 1;
  }
  return 0;
}

int
RunProgram(const char * xmlDescription, int argc, char * argv[], const std::function<void(ProgramContext &)> & body)
{
  std::vector<std::string> arguments(argv, argv + argc);
  std::ios::sync_with_stdio(true);
  // A program stopped by Ctrl-C, a scheduler's SIGTERM or a closed terminal leaves no
  // temporary file of an output being written.
  InstallTemporaryFileSignalCleanup();
  return RunProgram(xmlDescription, arguments, body, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1);
}

Shard
ParseShard(const std::string & text, const std::string & flag)
{
  static const std::regex pattern("^([0-9]{1,6})/([0-9]{1,6})$");
  std::smatch             match;
  if (!std::regex_match(text, match, pattern))
  {
    throw ParameterError(flag + ": '" + text + "' is not of the form k/n (e.g. 0/8)");
  }
  Shard shard;
  shard.index = static_cast<unsigned int>(std::stoul(match[1]));
  shard.count = static_cast<unsigned int>(std::stoul(match[2]));
  if (shard.count == 0 || shard.index >= shard.count)
  {
    throw ParameterError(flag + ": '" + text + "' needs 0 <= k < n");
  }
  return shard;
}

} // namespace nsa
