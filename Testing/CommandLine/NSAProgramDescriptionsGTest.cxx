// The programs' flags for parameter keys agree with the parameter structures' Visit lists
// (flag, type, range, choices, keep choice): the XML descriptions and nsaParameters.h cannot
// drift apart. The descriptions are the ones embedded in the programs.
#include "NSAEvaluateXML.h"
#include "NSAInsertLesionXML.h"
#include "NSAOverlayXML.h"
#include "NSAPredictXML.h"
#include "NSASynthesizeXML.h"
#include "NSATrainXML.h"

#include "nsaCommandLine.h"
#include "nsaParameterFlags.h"
#include "nsaParameters.h"
#include "nsaSyntheticLesion.h"

#include <gtest/gtest.h>

#include <cctype>

namespace
{

std::string
Lines(const std::vector<std::string> & items)
{
  std::string text;
  for (const auto & item : items)
  {
    text += item + "\n";
  }
  return text;
}

} // namespace

TEST(ProgramDescriptions, NSASynthesizeFlagsAreTheSynthesisKeys)
{
  const auto description = nsa::ModuleDescription::Parse(NSASynthesizeXMLDescription);
  EXPECT_EQ(Lines(nsa::DescribeFlagMismatches<nsa::SynthesisParameters>(description, "default")), "");
  // Every choice key of the structure that the program offers is a drop-down.
  for (const char * key : { "patch_rule", "patch_shape", "blend_mode", "label_mode", "object_mask" })
  {
    ASSERT_NE(description.Find(key), nullptr) << key;
    EXPECT_EQ(description.Find(key)->tag, "string-enumeration") << key;
  }
}

TEST(ProgramDescriptions, NSATrainFlagsAreTheTrainingKeys)
{
  const auto description = nsa::ModuleDescription::Parse(NSATrainXMLDescription);
  EXPECT_EQ(Lines(nsa::DescribeFlagMismatches<nsa::TrainingParameters>(description, "default")), "");
  EXPECT_EQ(Lines(nsa::DescribeFlagMismatches<nsa::NetworkParameters>(description, "default")), "");
  ASSERT_NE(description.Find("device"), nullptr);
  EXPECT_EQ(description.Find("device")->tag, "string-enumeration");
}

TEST(ProgramDescriptions, NSAPredictFlagsAreThePredictionKeys)
{
  const auto description = nsa::ModuleDescription::Parse(NSAPredictXMLDescription);
  EXPECT_EQ(Lines(nsa::DescribeFlagMismatches<nsa::PredictionParameters>(description, "model")), "");
  for (const char * key : { "case_score", "score_mask", "device" })
  {
    ASSERT_NE(description.Find(key), nullptr) << key;
    EXPECT_EQ(description.Find(key)->tag, "string-enumeration") << key;
  }
}

TEST(ProgramDescriptions, NSAInsertLesionFlagsAreTheLesionKeys)
{
  // No preset or model stands behind these flags: the structure's defaults are the program's,
  // so the description shows them, and each must be the key's own.
  const auto description = nsa::ModuleDescription::Parse(NSAInsertLesionXMLDescription);
  EXPECT_EQ(Lines(nsa::DescribeFlagMismatches<nsa::SyntheticLesionParameters>(description)), "");
  for (const char * key : { "kind", "shape", "placement" })
  {
    ASSERT_NE(description.Find(key), nullptr) << key;
    EXPECT_EQ(description.Find(key)->tag, "string-enumeration") << key;
  }
}

TEST(ProgramDescriptions, NSAEvaluateDeviceIsTheModelsOrAChoice)
{
  const auto   description = nsa::ModuleDescription::Parse(NSAEvaluateXMLDescription);
  const auto * device = description.Find("device");
  ASSERT_NE(device, nullptr);
  std::vector<std::string> expected{ "model" };
  for (const auto & choice : nsa::DeviceChoices())
  {
    expected.push_back(choice);
  }
  EXPECT_EQ(device->tag, "string-enumeration");
  EXPECT_EQ(device->elements, expected);
  EXPECT_EQ(device->defaultValue, "model");
  // Every listed device is one the structures accept.
  for (const auto & choice : nsa::DeviceChoices())
  {
    EXPECT_NO_THROW(nsa::ValidateDeviceName(choice)) << choice;
  }
}

TEST(ProgramDescriptions, NSAOverlayColormapIsAChoice)
{
  const auto   description = nsa::ModuleDescription::Parse(NSAOverlayXMLDescription);
  const auto * colormap = description.Find("colormap");
  ASSERT_NE(colormap, nullptr);
  EXPECT_EQ(colormap->tag, "string-enumeration");
  EXPECT_EQ(colormap->elements, (std::vector<std::string>{ "hot", "jet", "viridis" }));
}

TEST(ProgramDescriptions, NoChoiceIsFreeTextAnywhere)
{
  // A <string> flag whose description starts by listing words separated by commas and "or"
  // is a choice in disguise; the programs' remaining strings are paths, names and k/n.
  for (const char * xml : { NSAEvaluateXMLDescription, NSAOverlayXMLDescription, NSAPredictXMLDescription,
                            NSASynthesizeXMLDescription, NSATrainXMLDescription })
  {
    const auto description = nsa::ModuleDescription::Parse(xml);
    for (const auto & p : description.parameters)
    {
      for (const char * choiceKey : { "device", "case_score", "score_mask", "blend_mode", "label_mode",
                                      "patch_rule", "patch_shape", "object_mask", "colormap", "mode", "loss" })
      {
        if (p.name == choiceKey)
        {
          EXPECT_EQ(p.tag, "string-enumeration") << description.title << ": " << p.name;
        }
      }
    }
  }
}

TEST(ProgramDescriptions, ReturnParametersAreSlicerOutputsNamedInCamelCase)
{
  for (const char * xml : { NSAEvaluateXMLDescription, NSAInsertLesionXMLDescription, NSAOverlayXMLDescription,
                            NSAPredictXMLDescription, NSASynthesizeXMLDescription, NSATrainXMLDescription })
  {
    const auto description = nsa::ModuleDescription::Parse(xml);
    for (const auto & p : description.parameters)
    {
      if (!p.IsReturnParameter())
      {
        continue;
      }
      // Slicer shows a scalar with <channel>output</channel> and neither flag nor index as a
      // result of the module.
      EXPECT_EQ(p.channel, "output") << description.title << ": " << p.name;
      // One convention for results: lowerCamelCase (caseScore, caseAuroc, blendedPatches).
      EXPECT_TRUE(!p.name.empty() && std::islower(static_cast<unsigned char>(p.name[0])) &&
                  p.name.find('_') == std::string::npos)
        << description.title << ": " << p.name;
    }
  }
}
