#include "nsaModes.h"
#include "nsaParameterJson.h"
#include "nsaParameters.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

// Every mode enum: one name per value, and the names are those of JSON, flags and XML.

template <typename TEnum>
class ModeNames : public ::testing::Test
{};
using ModeTypes = ::testing::Types<nsa::PatchRule,
                                   nsa::PatchShape,
                                   nsa::ObjectMask,
                                   nsa::BlendMode,
                                   nsa::LabelMode,
                                   nsa::GradientMode,
                                   nsa::PoissonFormulation,
                                   nsa::NormalisationMode,
                                   nsa::Architecture,
                                   nsa::OutputActivation,
                                   nsa::Loss,
                                   nsa::CaseScore,
                                   nsa::ScoreMask>;
TYPED_TEST_SUITE(ModeNames, ModeTypes);

TYPED_TEST(ModeNames, EveryValueRoundTripsThroughItsName)
{
  const auto &          table = nsa::ModeTable<TypeParam>::Names;
  std::set<std::string> names;
  for (std::size_t i = 0; i < table.size(); ++i)
  {
    // The table lists the values in declaration order, each once.
    EXPECT_EQ(static_cast<std::size_t>(table[i].value), i) << table[i].name;
    EXPECT_TRUE(names.insert(table[i].name).second) << "duplicate name " << table[i].name;
    EXPECT_STREQ(nsa::ToString(table[i].value), table[i].name);
    EXPECT_EQ(nsa::FromString<TypeParam>(table[i].name), table[i].value);
    std::ostringstream printed;
    printed << table[i].value;
    EXPECT_EQ(printed.str(), table[i].name);
  }
  std::vector<std::string> inOrder;
  for (const auto & entry : table)
  {
    inOrder.emplace_back(entry.name);
  }
  EXPECT_EQ(nsa::ModeChoices<TypeParam>(), inOrder);
}

TYPED_TEST(ModeNames, UnknownNamesAreRefusedWithTheChoices)
{
  const std::string what = nsa::ModeTable<TypeParam>::What;
  for (const std::string unknown : { "", "no-such-mode", " gamma", "Mixed" })
  {
    TypeParam value{};
    EXPECT_FALSE(nsa::TryFromString(unknown, value)) << unknown;
    try
    {
      nsa::FromString<TypeParam>(unknown);
      ADD_FAILURE() << "'" << unknown << "' was accepted";
    }
    catch (const nsa::ParameterError & error)
    {
      EXPECT_EQ(error.what(), what + ": '" + unknown + "' is not one of " + nsa::QuotedModeChoices<TypeParam>());
    }
  }
}

TEST(ModeNames, NamesAreTheOnesFilesUse)
{
  // Presets, model files and the programs' XML hold these exact texts.
  EXPECT_EQ(nsa::QuotedModeChoices<nsa::BlendMode>(),
            "{'poisson-source', 'poisson-mixed', 'swap', 'uniform', 'poisson-uniform'}");
  EXPECT_EQ(nsa::ModeChoices<nsa::LabelMode>(),
            (std::vector<std::string>{ "binary", "continuous", "intensity", "logistic-intensity" }));
  EXPECT_EQ(nsa::ModeChoices<nsa::ObjectMask>(),
            (std::vector<std::string>{ "none", "background", "threshold", "otsu", "image" }));
  EXPECT_EQ(nsa::ModeChoices<nsa::CaseScore>(), (std::vector<std::string>{ "mean", "percentile", "top-k-mean" }));
  EXPECT_STREQ(nsa::ToString(nsa::Architecture::ResNet18EncDec), "resnet18-enc-dec");
  EXPECT_STREQ(nsa::ToString(nsa::GradientModeOf(nsa::BlendMode::PoissonMixed)), "mixed");
  EXPECT_STREQ(nsa::ToString(nsa::GradientModeOf(nsa::BlendMode::PoissonSource)), "source");
}

TEST(ModeNames, MessagesNameTheSettingAndCutLongText)
{
  EXPECT_THROW(nsa::FromString<nsa::GradientMode>("strong"), nsa::ParameterError);
  try
  {
    nsa::FromString<nsa::GradientMode>("strong", "poisson_blend gradients");
    ADD_FAILURE() << "'strong' was accepted";
  }
  catch (const nsa::ParameterError & error)
  {
    EXPECT_STREQ(error.what(), "poisson_blend gradients: 'strong' is not one of {'source', 'mixed'}");
  }
  try
  {
    nsa::FromString<nsa::BlendMode>(std::string(100000, 'x'));
    ADD_FAILURE() << "a long text was accepted";
  }
  catch (const nsa::ParameterError & error)
  {
    EXPECT_LT(std::string(error.what()).size(), 200u);
  }
}

TEST(ModeNames, BlendModeKinds)
{
  EXPECT_TRUE(nsa::IsPoissonBlend(nsa::BlendMode::PoissonSource));
  EXPECT_TRUE(nsa::IsPoissonBlend(nsa::BlendMode::PoissonMixed));
  EXPECT_TRUE(nsa::IsPoissonBlend(nsa::BlendMode::PoissonUniform));
  EXPECT_FALSE(nsa::IsPoissonBlend(nsa::BlendMode::Swap));
  EXPECT_FALSE(nsa::IsPoissonBlend(nsa::BlendMode::Uniform));
  EXPECT_TRUE(nsa::IsInterpolatedBlend(nsa::BlendMode::Uniform));
  EXPECT_TRUE(nsa::IsInterpolatedBlend(nsa::BlendMode::PoissonUniform));
  EXPECT_FALSE(nsa::IsInterpolatedBlend(nsa::BlendMode::PoissonMixed));
}

// The structures take their choices from the tables: JSON writes the name, reads it back,
// and refuses another text with the key and the table's choices.
TEST(ModeNames, ParameterStructuresUseTheTables)
{
  nsa::SynthesisParameters p;
  p.blend_mode = nsa::BlendMode::PoissonUniform;
  p.label_mode = nsa::LabelMode::Continuous;
  p.patch_shape = nsa::PatchShape::Ellipses;
  const nlohmann::json json = nsa::ToJson(p);
  EXPECT_EQ(json.at("blend_mode"), "poisson-uniform");
  EXPECT_EQ(json.at("label_mode"), "continuous");
  EXPECT_EQ(json.at("patch_shape"), "ellipses");
  EXPECT_EQ(nsa::FromJson<nsa::SynthesisParameters>(json, "synthesis").blend_mode, nsa::BlendMode::PoissonUniform);

  nsa::PredictionParameters prediction;
  try
  {
    nsa::UpdateFromJson(prediction, { { "case_score", "median" } }, "prediction");
    ADD_FAILURE() << "case_score 'median' was accepted";
  }
  catch (const nsa::ParameterError & error)
  {
    EXPECT_STREQ(error.what(), "prediction.case_score: 'median' is not one of {'mean', 'percentile', 'top-k-mean'}");
  }
  EXPECT_EQ(prediction.case_score, nsa::CaseScore::Mean);

  for (const auto & field : nsa::DocumentFields<nsa::NormalisationParameters>())
  {
    if (field.key == "mode")
    {
      EXPECT_EQ(field.type, "choice");
      EXPECT_EQ(field.defaultValue, "percentile");
      EXPECT_EQ(field.allowed, "none, window, percentile, minmax");
    }
  }
  EXPECT_EQ(nsa::ParametersText(nsa::NetworkParameters()).rfind("architecture=resnet18-enc-dec ", 0), 0u);
}
