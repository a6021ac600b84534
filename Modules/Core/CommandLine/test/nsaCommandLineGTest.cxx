#include "nsaCommandLine.h"
#include "nsaError.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace
{

// A description with every construct the layer supports, valid against Slicer's schema.
const char * const TestXML = R"(<?xml version="1.0" encoding="utf-8"?>
<executable>
  <category>Test</category>
  <title>Test Program</title>
  <description><![CDATA[A program used by the unit tests.]]></description>
  <version>1.2.3</version>
  <documentation-url>https://example.invalid</documentation-url>
  <license>Apache 2.0</license>
  <contributor>Tests</contributor>
  <parameters>
    <label>IO</label>
    <description>Files</description>
    <image>
      <name>input</name>
      <label>Input</label>
      <description>Input image</description>
      <channel>input</channel>
      <index>0</index>
    </image>
    <image>
      <name>output</name>
      <label>Output</label>
      <description>Output image</description>
      <channel>output</channel>
      <index>1</index>
    </image>
  </parameters>
  <parameters>
    <label>Options</label>
    <description>Options</description>
    <integer>
      <name>count</name>
      <flag>c</flag>
      <longflag>count</longflag>
      <label>Count</label>
      <description>A count</description>
      <default>2</default>
      <constraints><minimum>1</minimum><maximum>10</maximum><step>1</step></constraints>
    </integer>
    <double>
      <name>factor</name>
      <longflag>--factor</longflag>
      <label>Factor</label>
      <description>A factor</description>
      <default>0.5</default>
    </double>
    <boolean>
      <name>verbose</name>
      <longflag>verbose</longflag>
      <label>Verbose</label>
      <description>A switch</description>
      <default>false</default>
    </boolean>
    <double-vector>
      <name>bounds</name>
      <longflag>bounds</longflag>
      <label>Bounds</label>
      <description>Bounds</description>
      <default>0.03,0.4</default>
      <constraints><minimum>0</minimum><maximum>1</maximum><step>0.01</step></constraints>
    </double-vector>
    <string-vector>
      <name>names</name>
      <longflag>names</longflag>
      <label>Names</label>
      <description>Names</description>
    </string-vector>
    <string-enumeration>
      <name>mode</name>
      <longflag>mode</longflag>
      <label>Mode</label>
      <description>Mode</description>
      <default>a</default>
      <element>a</element>
      <element>b</element>
    </string-enumeration>
    <string>
      <name>preset</name>
      <longflag>preset</longflag>
      <label>Preset</label>
      <description>Optional, no default</description>
    </string>
  </parameters>
  <parameters>
    <label>Results</label>
    <description>Return parameters</description>
    <double>
      <name>score</name>
      <label>Score</label>
      <description>A result</description>
    </double>
  </parameters>
</executable>
)";

nsa::ParsedArguments
Parse(const std::vector<std::string> & arguments)
{
  static const nsa::ModuleDescription description = nsa::ModuleDescription::Parse(TestXML);
  return nsa::ParsedArguments(description, arguments);
}

std::string
ParseError(const std::vector<std::string> & arguments)
{
  try
  {
    Parse(arguments);
  }
  catch (const nsa::ParameterError & error)
  {
    return error.what();
  }
  return "no error";
}

} // namespace

TEST(ModuleDescription, ParsesEveryField)
{
  const auto d = nsa::ModuleDescription::Parse(TestXML);
  EXPECT_EQ(d.title, "Test Program");
  EXPECT_EQ(d.version, "1.2.3");
  EXPECT_EQ(d.category, "Test");
  ASSERT_EQ(d.parameters.size(), 10u);
  const auto * count = d.Find("count");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->flag, "c");
  EXPECT_EQ(count->longflag, "count");
  EXPECT_EQ(count->defaultValue, "2");
  EXPECT_EQ(*count->minimum, 1.0);
  EXPECT_EQ(*count->maximum, 10.0);
  EXPECT_EQ(count->group, "Options");
  EXPECT_EQ(d.Find("factor")->longflag, "factor"); // a leading "--" is tolerated
  EXPECT_EQ(d.Find("mode")->elements, (std::vector<std::string>{ "a", "b" }));
  EXPECT_EQ(d.Find("input")->index, 0);
  EXPECT_TRUE(d.Find("score")->IsReturnParameter());
  EXPECT_FALSE(d.Find("count")->IsReturnParameter());
  EXPECT_FALSE(d.Find("output")->IsReturnParameter());
  EXPECT_TRUE(d.Find("bounds")->IsVector());
}

TEST(ModuleDescription, RejectsMalformedXml)
{
  EXPECT_THROW(nsa::ModuleDescription::Parse("<executable><title>x</executable>"), nsa::Error);
  EXPECT_THROW(nsa::ModuleDescription::Parse(R"(<executable><parameters><integer><name>a</name><longflag>a</longflag>
    </integer><integer><name>a</name><longflag>b</longflag></integer></parameters></executable>)"),
               nsa::Error);
}

TEST(ParsedArguments, DefaultsWhenAbsent)
{
  const auto args = Parse({ "in.nii", "out.nii" });
  EXPECT_EQ(args.GetString("input"), "in.nii");
  EXPECT_EQ(args.GetString("output"), "out.nii");
  EXPECT_EQ(args.GetInteger("count"), 2);
  EXPECT_DOUBLE_EQ(args.GetDouble("factor"), 0.5);
  EXPECT_FALSE(args.GetBoolean("verbose"));
  EXPECT_EQ(args.GetDoubleVector("bounds"), (std::vector<double>{ 0.03, 0.4 }));
  EXPECT_EQ(args.GetString("mode"), "a");
  EXPECT_FALSE(args.IsSet("preset"));
  EXPECT_FALSE(args.WasGiven("count"));
  EXPECT_TRUE(args.IsSet("count"));
  EXPECT_THROW(args.GetString("preset"), nsa::ParameterError);
  EXPECT_THROW(args.GetString("no-such-parameter"), nsa::Error);
}

TEST(ParsedArguments, SlicerStyleInvocation)
{
  // As Slicer runs a CLI: booleans as bare switches, vectors as one comma-separated
  // argument, its own two options, positional arguments last.
  const auto args = Parse({ "--count", "7", "--verbose", "--bounds", "0.1,0.2", "--names", "x,y,z", "--mode", "b",
                            "--processinformationaddress", "0x7fff0000", "--returnparameterfile", "/tmp/r.txt",
                            "in.nrrd", "out.nrrd" });
  EXPECT_EQ(args.GetInteger("count"), 7);
  EXPECT_TRUE(args.GetBoolean("verbose"));
  EXPECT_TRUE(args.WasGiven("verbose"));
  EXPECT_EQ(args.GetDoubleVector("bounds"), (std::vector<double>{ 0.1, 0.2 }));
  EXPECT_EQ(args.GetStringVector("names"), (std::vector<std::string>{ "x", "y", "z" }));
  EXPECT_EQ(args.GetString("mode"), "b");
  EXPECT_EQ(args.ReturnParameterFile(), "/tmp/r.txt");
  EXPECT_EQ(args.GetString("input"), "in.nrrd");
}

TEST(ParsedArguments, ShortFlagsEqualsFormAndNegativeNumbers)
{
  const auto args = Parse({ "-c", "3", "--factor=-2.5e-1", "--verbose=false", "in", "out" });
  EXPECT_EQ(args.GetInteger("count"), 3);
  EXPECT_DOUBLE_EQ(args.GetDouble("factor"), -0.25);
  EXPECT_FALSE(args.GetBoolean("verbose"));
  const auto negative = Parse({ "--factor", "-3", "in", "out" });
  EXPECT_DOUBLE_EQ(negative.GetDouble("factor"), -3.0);
}

TEST(ParsedArguments, ErrorsNameTheFlagAndWhatIsExpected)
{
  EXPECT_EQ(ParseError({ "--count", "11", "in", "out" }), "--count: 11 is out of range [1, 10]");
  EXPECT_EQ(ParseError({ "--count", "two", "in", "out" }),
            "--count: expected an integer from -2147483648 to 2147483647, got 'two'");
  EXPECT_EQ(ParseError({ "--factor", "nan", "in", "out" }), "--factor: expected a finite number, got 'nan'");
  EXPECT_EQ(ParseError({ "--bounds", "0.1,2", "in", "out" }), "--bounds: 2 is out of range [0, 1]");
  EXPECT_EQ(ParseError({ "--bounds", "0.1,,0.2", "in", "out" }), "--bounds: empty element in list '0.1,,0.2'");
  EXPECT_EQ(ParseError({ "--mode", "c", "in", "out" }), "--mode: 'c' is not one of a, b");
  EXPECT_EQ(ParseError({ "--colour", "red", "in", "out" }), "unknown option '--colour' (see --help)");
  EXPECT_EQ(ParseError({ "in" }), "missing argument <output> (Output), position 2; see --help");
  EXPECT_EQ(ParseError({ "in", "out", "extra" }),
            "unexpected argument 'extra' (this program takes 2 positional arguments)");
  EXPECT_EQ(ParseError({ "in", "out", "--count" }), "--count: missing value");
  EXPECT_EQ(ParseError({ "--count", "2", "--count", "3", "in", "out" }), "--count is given more than once");
  EXPECT_EQ(ParseError({ "--verbose=maybe", "in", "out" }), "--verbose: expected true or false, got 'maybe'");
}

TEST(ParsedArguments, NumbersAreRangeCheckedNeverTruncated)
{
  // 2^32 + 3 would become 3 in an int; 2^63 overflows even a long.
  const std::string integer = "--count: expected an integer from -2147483648 to 2147483647, got '";
  for (const char * text : { "4294967299", "-4294967299", "2147483648", "9223372036854775808", "12abc", " 5", "5 ",
                             "0x10", "1e3", "1.5", "" })
  {
    EXPECT_EQ(ParseError({ "--count", text, "in", "out" }), integer + text + "'") << text;
  }
  EXPECT_EQ(Parse({ "--count", "+7", "in", "out" }).GetInteger("count"), 7);
  const std::string real = "--factor: expected a finite number, got '";
  for (const char * text : { "nan", "-nan", "inf", "-infinity", "1e400", "-1e999", "0x1p3", "0.5x", " 0.5", "" })
  {
    EXPECT_EQ(ParseError({ "--factor", text, "in", "out" }), real + text + "'") << text;
  }
  EXPECT_DOUBLE_EQ(Parse({ "--factor", "1e-310", "in", "out" }).GetDouble("factor"), 1e-310); // subnormal: kept
  EXPECT_EQ(ParseError({ "--bounds", "0.1,inf", "in", "out" }), "--bounds: expected a finite number, got 'inf'");
}

TEST(RunProgram, XmlComesFirstAndAlone)
{
  std::ostringstream out, err;
  bool               ran = false;
  const int rc = nsa::RunProgram(TestXML, { "prog", "--xml" }, [&](nsa::ProgramContext &) { ran = true; }, out, err, false);
  EXPECT_EQ(rc, 0);
  EXPECT_FALSE(ran);
  EXPECT_EQ(out.str(), TestXML);
  EXPECT_TRUE(err.str().empty());
}

TEST(RunProgram, HelpAndVersion)
{
  std::ostringstream out, err;
  EXPECT_EQ(nsa::RunProgram(TestXML, { "/usr/bin/prog", "--help" }, [](nsa::ProgramContext &) {}, out, err, false), 0);
  EXPECT_NE(out.str().find("Usage: prog [options] <input> <output>"), std::string::npos);
  EXPECT_NE(out.str().find("-c, --count <int>"), std::string::npos);
  EXPECT_NE(out.str().find("Default: 2. Range: [1, 10]."), std::string::npos);
  std::ostringstream out2;
  EXPECT_EQ(nsa::RunProgram(TestXML, { "prog", "--version" }, [](nsa::ProgramContext &) {}, out2, err, false), 0);
  EXPECT_NE(out2.str().find("prog 1.2.3"), std::string::npos);
}

TEST(RunProgram, ReturnParametersProgressAndErrors)
{
  const std::string folder = std::string(NSA_TEST_OUTPUT_DIR) + "/CommandLineGTest";
  std::filesystem::create_directories(folder);
  const std::string returnFile = folder + "/return.txt";
  std::filesystem::remove(returnFile);

  std::ostringstream out, err;
  const int          rc = nsa::RunProgram(
    TestXML,
    { "prog", "in", "out", "--returnparameterfile", returnFile },
    [](nsa::ProgramContext & program) {
      program.Progress().StartStage("Work");
      program.Progress().Report(0.5);
      program.Progress().EndStage();
      program.SetReturnValue("score", 0.25);
      EXPECT_THROW(program.SetReturnValue("count", 1), nsa::Error);
    },
    out,
    err,
    false);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_NE(out.str().find("<filter-start>"), std::string::npos);
  EXPECT_NE(out.str().find("<filter-progress>0.500</filter-progress>"), std::string::npos);
  EXPECT_NE(out.str().find("<filter-end>"), std::string::npos);
  std::ifstream     stream(returnFile);
  std::stringstream content;
  content << stream.rdbuf();
  EXPECT_EQ(content.str(), "score = 0.25\n");

  // A failing body: message with the program name, exit 1, no return file.
  std::filesystem::remove(returnFile);
  std::ostringstream out2, err2;
  const int          failed = nsa::RunProgram(
    TestXML,
    { "prog", "in", "out", "--returnparameterfile", returnFile },
    [](nsa::ProgramContext &) { throw nsa::InputError("Cannot read 'in': file not found"); },
    out2,
    err2,
    false);
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(err2.str(), "prog: error: Cannot read 'in': file not found\n");
  EXPECT_FALSE(std::filesystem::exists(returnFile));

  // A usage error: exit 2 and a hint.
  std::ostringstream out3, err3;
  EXPECT_EQ(nsa::RunProgram(TestXML, { "prog", "--count", "0", "in", "out" }, [](nsa::ProgramContext &) {}, out3,
                            err3, false),
            2);
  EXPECT_NE(err3.str().find("prog: error: --count: 0 is out of range [1, 10]"), std::string::npos);
}

TEST(RunProgram, TerminalProgressBar)
{
  std::ostringstream out, err;
  nsa::RunProgram(
    TestXML,
    { "prog", "in", "out" },
    [](nsa::ProgramContext & program) {
      program.Progress().StartStage("Work");
      program.Progress().Report(0.5);
      program.Progress().EndStage();
    },
    out,
    err,
    true);
  EXPECT_EQ(out.str().find("<filter"), std::string::npos);
  EXPECT_NE(err.str().find("Work [###############...............]  50%"), std::string::npos);
}
