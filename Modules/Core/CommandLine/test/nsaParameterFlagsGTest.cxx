#include "nsaCommandLine.h"
#include "nsaError.h"
#include "nsaParameterFlags.h"
#include "nsaParameters.h"

#include <gtest/gtest.h>

#include <sstream>

namespace
{

/** A description declaring a few synthesis keys as flags, the way NSASynthesize does;
 * `extra` is inserted into the options group. */
std::string
SynthesisXml(const std::string & extra)
{
  return R"(<?xml version="1.0" encoding="utf-8"?>
<executable>
  <category>Test</category>
  <title>Flags</title>
  <description>Synthesis flags</description>
  <version>1.0</version>
  <parameters>
    <label>Options</label>
    <description>Options</description>
    <integer>
      <name>num_patches</name>
      <longflag>num_patches</longflag>
      <label>Patches</label>
      <description>n</description>
      <constraints><minimum>1</minimum><maximum>32</maximum></constraints>
    </integer>
    <double>
      <name>min_object</name>
      <longflag>min_object</longflag>
      <label>Min object</label>
      <description>f</description>
      <constraints><minimum>0</minimum><maximum>1</maximum></constraints>
    </double>
    <double>
      <name>logistic_x0</name>
      <longflag>logistic_x0</longflag>
      <label>x0</label>
      <description>x0</description>
    </double>
    <double-vector>
      <name>width_bounds</name>
      <longflag>width_bounds</longflag>
      <label>Widths</label>
      <description>w</description>
      <constraints><minimum>0</minimum><maximum>1</maximum></constraints>
    </double-vector>
    <string-enumeration>
      <name>blend_mode</name>
      <longflag>blend_mode</longflag>
      <label>Blend</label>
      <description>b</description>
      <default>default</default>
      <element>default</element>
      <element>poisson-source</element>
      <element>poisson-mixed</element>
      <element>swap</element>
      <element>uniform</element>
      <element>poisson-uniform</element>
    </string-enumeration>
)" + extra +
         R"(  </parameters>
</executable>
)";
}

/** Runs a program body that applies the synthesis flags; returns the exit code. */
int
Apply(const std::vector<std::string> & arguments, nsa::SynthesisParameters & parameters, std::string & error)
{
  const std::string  xml = SynthesisXml("");
  std::ostringstream out, err;
  std::vector<std::string> argv{ "prog" };
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const int rc = nsa::RunProgram(
    xml.c_str(), argv,
    [&](nsa::ProgramContext & program) { nsa::ApplyParameterFlags(program, parameters, "default"); }, out, err,
    false);
  error = err.str();
  return rc;
}

} // namespace

TEST(ParameterFlags, GivenFlagsOverrideAndAbsentOnesKeepThePresetValues)
{
  nsa::SynthesisParameters parameters;
  parameters.blend_mode = nsa::BlendMode::Swap; // as a preset would have set it
  parameters.logistic_x0 = 0.5;
  std::string error;
  ASSERT_EQ(Apply({ "--num_patches", "7", "--width_bounds", "0.1,0.2", "--min_object", "0.5" }, parameters, error), 0)
    << error;
  EXPECT_EQ(parameters.num_patches, 7);
  EXPECT_EQ(parameters.width_bounds, (std::vector<double>{ 0.1, 0.2 }));
  EXPECT_DOUBLE_EQ(parameters.min_object, 0.5);
  EXPECT_EQ(parameters.blend_mode, nsa::BlendMode::Swap); // the keep choice, as Slicer passes it
  EXPECT_DOUBLE_EQ(parameters.logistic_x0, 0.5);

  ASSERT_EQ(Apply({ "--blend_mode", "poisson-source", "--logistic_x0", "-0.25" }, parameters, error), 0) << error;
  EXPECT_EQ(parameters.blend_mode, nsa::BlendMode::PoissonSource);
  EXPECT_DOUBLE_EQ(parameters.logistic_x0, -0.25);
}

TEST(ParameterFlags, TheStructuresRulesApplyToFlags)
{
  nsa::SynthesisParameters parameters;
  std::string              error;
  // width_bounds takes 2, 4 or 6 values: the structure's rule, not the description's.
  EXPECT_EQ(Apply({ "--width_bounds", "0.1,0.2,0.3" }, parameters, error), 1);
  EXPECT_NE(error.find("command line.width_bounds: expected 2 or 4 or 6 numbers, got 3"), std::string::npos) << error;
  // A choice outside the enumeration is refused while parsing, naming the choices.
  EXPECT_EQ(Apply({ "--blend_mode", "mixed" }, parameters, error), 2);
  EXPECT_NE(error.find("--blend_mode: 'mixed' is not one of default, poisson-source"), std::string::npos) << error;
  EXPECT_EQ(parameters.blend_mode, nsa::SynthesisParameters{}.blend_mode);
}

TEST(ParameterFlags, AgreementWithVisitIsChecked)
{
  using nsa::DescribeFlagMismatches;
  using nsa::ModuleDescription;
  using nsa::SynthesisParameters;
  EXPECT_TRUE(
    DescribeFlagMismatches<SynthesisParameters>(ModuleDescription::Parse(SynthesisXml("")), "default").empty());

  const auto mismatches = [](const std::string & extra, const std::string & keep = "default") {
    const auto found = DescribeFlagMismatches<SynthesisParameters>(ModuleDescription::Parse(SynthesisXml(extra)), keep);
    std::string text;
    for (const auto & m : found)
    {
      text += m + "\n";
    }
    return text;
  };
  // Another range than the key's.
  EXPECT_NE(mismatches("<integer><name>max_attempts</name><longflag>max_attempts</longflag><label>a</label>"
                       "<description>a</description><constraints><minimum>1</minimum><maximum>10</maximum>"
                       "</constraints></integer>\n")
              .find("parameter 'max_attempts' declares the range [1, 10], the key [1, 100000]"),
            std::string::npos);
  // A choice as free text.
  EXPECT_NE(mismatches("<string><name>label_mode</name><longflag>label_mode</longflag><label>l</label>"
                       "<description>l</description></string>\n")
              .find("parameter 'label_mode' is <string>, the key needs <string-enumeration>"),
            std::string::npos);
  // Choices that differ, and a missing keep default.
  const std::string patchRule = mismatches("<string-enumeration><name>patch_rule</name><longflag>patch_rule</longflag>"
                                           "<label>p</label><description>p</description><element>gamma</element>"
                                           "</string-enumeration>\n");
  EXPECT_NE(patchRule.find("lists the choices {gamma}, the key {default, gamma, cutpaste}"), std::string::npos)
    << patchRule;
  EXPECT_NE(patchRule.find("must default to 'default'"), std::string::npos) << patchRule;
  // A default that would override the preset; another type; another flag name.
  EXPECT_NE(mismatches("<double><name>gamma_shape</name><longflag>gamma_shape</longflag><label>g</label>"
                       "<description>g</description><default>2</default><constraints><minimum>0.001</minimum>"
                       "<maximum>100</maximum></constraints></double>\n")
              .find("parameter 'gamma_shape' has a default ('2')"),
            std::string::npos);
  EXPECT_NE(mismatches("<integer><name>gamma_scale</name><longflag>gamma_scale</longflag><label>g</label>"
                       "<description>g</description></integer>\n")
              .find("parameter 'gamma_scale' is <integer>, the key needs <double> or <float>"),
            std::string::npos);
  EXPECT_NE(mismatches("<integer><name>num_ellipses</name><longflag>ellipses</longflag><label>g</label>"
                       "<description>g</description><constraints><minimum>1</minimum><maximum>64</maximum>"
                       "</constraints></integer>\n")
              .find("parameter 'num_ellipses' has the flag --ellipses instead of --num_ellipses"),
            std::string::npos);
  // A switch for a key whose default is true could never change it.
  EXPECT_NE(mismatches("<boolean><name>resize</name><longflag>resize</longflag><label>r</label>"
                       "<description>r</description><default>false</default></boolean>\n")
              .find("parameter 'resize' is a switch, but the key's default is true"),
            std::string::npos);

  // Without a keep choice the structure's defaults are the program's: a declared default must
  // be the key's, for a number as for a choice.
  const std::string gammaShape = "<double><name>gamma_shape</name><longflag>gamma_shape</longflag><label>g</label>"
                                 "<description>g</description><default>%</default><constraints>"
                                 "<minimum>0.001</minimum><maximum>100</maximum></constraints></double>\n";
  const auto withDefault = [](std::string xml, const std::string & value) {
    return xml.replace(xml.find('%'), 1, value);
  };
  EXPECT_EQ(mismatches(withDefault(gammaShape, "2.0"), "").find("'gamma_shape'"), std::string::npos);
  EXPECT_NE(mismatches(withDefault(gammaShape, "3"), "").find("parameter 'gamma_shape' has the default '3', the key's is '2'"),
            std::string::npos);
  EXPECT_NE(mismatches(withDefault(gammaShape, "2,2"), "").find("parameter 'gamma_shape' has the default '2,2'"),
            std::string::npos);
  // An optional key unset by default cannot show a default.
  EXPECT_NE(mismatches("<double><name>background_intensity</name><longflag>background_intensity</longflag>"
                       "<label>b</label><description>b</description><default>0</default></double>\n",
                       "")
              .find("parameter 'background_intensity' has the default '0', the key is unset by default"),
            std::string::npos);
  const std::string rule = "<string-enumeration><name>patch_rule</name><longflag>patch_rule</longflag><label>p</label>"
                           "<description>p</description><default>%</default><element>gamma</element>"
                           "<element>cutpaste</element></string-enumeration>\n";
  EXPECT_EQ(mismatches(withDefault(rule, "gamma"), "").find("'patch_rule'"), std::string::npos);
  EXPECT_NE(mismatches(withDefault(rule, "cutpaste"), "")
              .find("parameter 'patch_rule' has the default 'cutpaste', the key's is 'gamma'"),
            std::string::npos);
}
