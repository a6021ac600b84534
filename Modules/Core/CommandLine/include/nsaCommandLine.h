#ifndef nsaCommandLine_h
#define nsaCommandLine_h

#include "nsaProgress.h"

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nsa
{

/** \file nsaCommandLine.h
 * \brief The command-line layer every program shares; every program is also a 3D Slicer
 * CLI module.
 *
 * A program's parameters are described once, in a Slicer execution-model XML file embedded
 * in the executable (see CMake/NSAProgram.cmake). ModuleDescription parses that XML; the
 * argument parser, `--help`, `--xml`, defaults, constraints and return parameters all come
 * from it, so help text, flags and Slicer's view never disagree.
 */

/** One `<parameters>` entry of a module description. */
struct ParameterDescription
{
  std::string              tag;          ///< element name: integer, double, boolean, image, ...
  std::string              name;         ///< identifier used by the program
  std::string              flag;         ///< one character, without '-'
  std::string              longflag;     ///< without '--'
  std::string              label;
  std::string              description;
  std::string              defaultValue; ///< as text; empty when none
  bool                     hasDefault = false;
  std::string              channel;      ///< input, output or empty
  int                      index = -1;   ///< position for positional arguments
  bool                     multiple = false;
  std::vector<std::string> elements;     ///< enumeration choices
  std::optional<double>    minimum;
  std::optional<double>    maximum;
  std::string              group;        ///< label of the enclosing parameters group

  /** True for scalar outputs without flag or index: Slicer's return parameters. */
  bool
  IsReturnParameter() const;
  bool
  IsVector() const;
  bool
  IsBoolean() const
  {
    return tag == "boolean";
  }
};

/** A parsed Slicer execution-model description. */
struct ModuleDescription
{
  std::string                       category;
  std::string                       title;
  std::string                       description;
  std::string                       version;
  std::string                       documentationUrl;
  std::string                       license;
  std::string                       contributor;
  std::vector<ParameterDescription> parameters;

  /** Parses the XML text; throws nsa::Error with the parser's line and message. */
  static ModuleDescription
  Parse(const std::string & xml);

  const ParameterDescription *
  Find(const std::string & name) const;

  /** Human help text: usage line, then each group with flags, defaults and constraints. */
  std::string
  HelpText(const std::string & programName) const;
};

/** \class ParsedArguments
 * \brief Values of a program's parameters after parsing argv against its description.
 *
 * Getters take the parameter's `name`. A parameter is "set" when given on the command line
 * or when it has a default; an optional flag that is absent and has no default is unset and
 * its getter throws ParameterError naming the flag. Values are checked against the
 * description's type, enumeration and constraints while parsing, and the error names the
 * flag and what was expected.
 */
class ParsedArguments
{
public:
  ParsedArguments() = default;
  ParsedArguments(const ModuleDescription & description, const std::vector<std::string> & arguments);

  bool
  IsSet(const std::string & name) const;
  /** True only when the user gave it (not from a default). */
  bool
  WasGiven(const std::string & name) const;

  std::string
  GetString(const std::string & name) const;
  int
  GetInteger(const std::string & name) const;
  double
  GetDouble(const std::string & name) const;
  bool
  GetBoolean(const std::string & name) const;
  std::vector<double>
  GetDoubleVector(const std::string & name) const;
  std::vector<int>
  GetIntegerVector(const std::string & name) const;
  std::vector<std::string>
  GetStringVector(const std::string & name) const;

  /** Value of --returnparameterfile, empty when absent. */
  const std::string &
  ReturnParameterFile() const
  {
    return m_ReturnParameterFile;
  }

private:
  const ParameterDescription &
  Lookup(const std::string & name) const;
  const std::string &
  Raw(const std::string & name) const;

  const ModuleDescription *          m_Description{ nullptr };
  std::map<std::string, std::string> m_Values; // name -> raw text (given or default)
  std::map<std::string, bool>        m_Given;
  std::string                        m_ReturnParameterFile;
};

/** \class CommandLineProgress
 * \brief Progress for a program: Slicer's `<filter-start>`, `<filter-progress>`,
 * `<filter-end>` tags on stdout (flushed), or a progress bar on stderr when stdout is a
 * terminal. Messages go to stderr in both cases.
 */
class CommandLineProgress : public ProgressObserver
{
public:
  /** `slicerTags`: true for Slicer's tags, false for a terminal bar. */
  CommandLineProgress(std::string programName, bool slicerTags, std::ostream & out, std::ostream & err);

  void
  StartStage(const std::string & name) override;
  void
  Report(double fraction) override;
  void
  EndStage() override;
  void
  Message(const std::string & text) override;

private:
  std::string    m_ProgramName;
  bool           m_SlicerTags;
  std::ostream & m_Out;
  std::ostream & m_Err;
  std::string    m_Stage;
  int            m_LastPermille{ -1 };
};

/** \class ProgramContext
 * \brief What a program's body sees: its parsed arguments, progress, return values. */
class ProgramContext
{
public:
  ProgramContext(const ModuleDescription & description, ParsedArguments arguments, ProgressObserver & progress);

  const ParsedArguments &
  Arguments() const
  {
    return m_Arguments;
  }
  const ModuleDescription &
  Description() const
  {
    return m_Description;
  }
  ProgressObserver &
  Progress()
  {
    return m_Progress;
  }

  // Shorthands for Arguments().Get...(name).
  bool
  IsSet(const std::string & name) const
  {
    return m_Arguments.IsSet(name);
  }
  std::string
  GetString(const std::string & name) const
  {
    return m_Arguments.GetString(name);
  }
  int
  GetInteger(const std::string & name) const
  {
    return m_Arguments.GetInteger(name);
  }
  double
  GetDouble(const std::string & name) const
  {
    return m_Arguments.GetDouble(name);
  }
  bool
  GetBoolean(const std::string & name) const
  {
    return m_Arguments.GetBoolean(name);
  }
  std::vector<double>
  GetDoubleVector(const std::string & name) const
  {
    return m_Arguments.GetDoubleVector(name);
  }
  std::vector<int>
  GetIntegerVector(const std::string & name) const
  {
    return m_Arguments.GetIntegerVector(name);
  }
  std::vector<std::string>
  GetStringVector(const std::string & name) const
  {
    return m_Arguments.GetStringVector(name);
  }

  /** Records a scalar output (a return parameter of the description); written as
   * `name = value` to --returnparameterfile when the program succeeds, and printed. */
  void
  SetReturnValue(const std::string & name, const std::string & value);
  void
  SetReturnValue(const std::string & name, double value);
  void
  SetReturnValue(const std::string & name, int value);
  void
  SetReturnValue(const std::string & name, bool value);

  const std::vector<std::pair<std::string, std::string>> &
  ReturnValues() const
  {
    return m_ReturnValues;
  }

private:
  const ModuleDescription &                        m_Description;
  ParsedArguments                                  m_Arguments;
  ProgressObserver &                               m_Progress;
  std::vector<std::pair<std::string, std::string>> m_ReturnValues;
};

/** Runs a program: answers `--xml` first (nothing printed before it), `--help`/`-h` and
 * `--version`; accepts Slicer's `--returnparameterfile FILE` and
 * `--processinformationaddress ADDR`; parses the arguments; calls `body`; writes return
 * parameters atomically. Any exception (nsa::Error, itk::ExceptionObject, std::exception)
 * is printed as "<program>: error: <message>" on stderr and gives exit code 1; a usage
 * error gives exit code 2. Returns the process exit code. */
int
RunProgram(const char * xmlDescription, int argc, char * argv[], const std::function<void(ProgramContext &)> & body);

/** The same with explicit streams and terminal choice, for tests. */
int
RunProgram(const char *                                 xmlDescription,
           const std::vector<std::string> &             arguments,
           const std::function<void(ProgramContext &)> & body,
           std::ostream &                               out,
           std::ostream &                               err,
           bool                                         terminal);

/** \brief One shard of a cohort split over n jobs: the cases (or studies) k, k+n, k+2n, ...
 * (`--shard k/n` of NSAEvaluate and NSAPredict). */
struct Shard
{
  unsigned int index = 0;
  unsigned int count = 1;

  /** Whether the item at position `position` of the list belongs to this shard. */
  bool
  Contains(std::size_t position) const
  {
    return position % count == index;
  }
};

/** Parses "k/n" (0 <= k < n, at most six digits each); throws ParameterError naming `flag`. */
Shard
ParseShard(const std::string & text, const std::string & flag = "--shard");

} // namespace nsa

#endif
