#include "nsaPreset.h"
#include "nsaSynthesis.h"

#include "itkImageRegionIteratorWithIndex.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace
{

std::vector<fs::path>
PresetFiles()
{
  std::vector<fs::path> files;
  for (const auto & entry : fs::directory_iterator(fs::path(NSA_DATA_DIR) / "Presets"))
  {
    if (entry.path().extension() == ".json")
    {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

/** A 96 x 96 image in the units the preset expects: a bright disk (object) on a dark
 * background (0 for photographs and radiographs, -1000 HU for CT). */
itk::Image<float, 2>::Pointer
MakeImage(const nsa::Preset & preset, double phase)
{
  auto image = itk::Image<float, 2>::New();
  image->SetRegions(itk::Size<2>{ { 96, 96 } });
  image->Allocate();
  const bool ct = preset.modality == "CT";
  itk::ImageRegionIteratorWithIndex<itk::Image<float, 2>> it(image, image->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    const double x = it.GetIndex()[0] - 48.0, y = it.GetIndex()[1] - 48.0;
    const bool   inside = x * x + y * y < 40.0 * 40.0;
    const double texture = 40.0 * std::sin(0.3 * x + phase) * std::cos(0.2 * y);
    it.Set(static_cast<float>(ct ? (inside ? 40.0 + 2.0 * texture : -1000.0) : (inside ? 120.0 + texture : 0.0)));
  }
  return image;
}

} // namespace

TEST(SynthesisPresets, EveryPresetLoadsValidatesAndSynthesises)
{
  const auto files = PresetFiles();
  ASSERT_GE(files.size(), 18u);
  std::set<std::string> names;
  for (const auto & file : files)
  {
    SCOPED_TRACE(file.string());
    nsa::Preset preset;
    ASSERT_NO_THROW(preset = nsa::LoadPreset(file.string()));
    EXPECT_EQ(preset.name, file.stem().string());
    EXPECT_FALSE(preset.description.empty());
    EXPECT_FALSE(preset.modality.empty());
    EXPECT_FALSE(preset.reference.empty());
    EXPECT_NO_THROW(preset.synthesis.Validate());
    names.insert(preset.name);

    // The preset works: a synthesis on an image in its units blends at least one patch over
    // a few samples, and records every patch slot.
    auto         destination = MakeImage(preset, 0.0);
    auto         source = MakeImage(preset, 1.0);
    unsigned int blended = 0;
    for (std::uint64_t i = 0; i < 4; ++i)
    {
      const auto result = nsa::Synthesize<2>(destination, source, nullptr, nullptr, preset.synthesis,
                                             nsa::RandomStream(1, 0, i, nsa::RandomPurpose::Test), 1);
      EXPECT_EQ(result.record.patches.size(), static_cast<std::size_t>(preset.synthesis.num_patches));
      blended += result.record.NumberOfBlendedPatches();
    }
    EXPECT_GT(blended, 0u);
  }
  for (const char * mvtec : { "bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal-nut", "pill",
                              "screw", "tile", "toothbrush", "transistor", "wood", "zipper" })
  {
    EXPECT_EQ(names.count(std::string("mvtec-") + mvtec), 1u) << mvtec;
  }
  for (const char * medical : { "chest-xray", "brain-mri", "abdominal-ct" })
  {
    EXPECT_EQ(names.count(medical), 1u) << medical;
  }
}

// Spot checks against the official per-class settings (train_mvtec.py), converted to this
// toolkit's conventions: width bounds per axis in x, y order; k and x0 in units of 255 grey
// levels (k = 255 k_paper, x0 = x0_paper / 255).
TEST(SynthesisPresets, MVTecSettingsMatchThePaper)
{
  const auto capsule = nsa::LoadPreset("mvtec-capsule").synthesis;
  EXPECT_EQ(capsule.width_bounds, (std::vector<double>{ 0.03, 0.4, 0.03, 0.15 }));
  EXPECT_EQ(capsule.num_patches, 3);
  EXPECT_DOUBLE_EQ(capsule.logistic_k, 255.0 / 2.0);
  EXPECT_NEAR(capsule.logistic_x0, 4.0 / 255.0, 1e-9);
  EXPECT_EQ(capsule.object_mask, nsa::ObjectMask::Background);
  EXPECT_EQ(*capsule.background_intensity, 200.0);
  EXPECT_EQ(capsule.background_tolerance, 60.0);
  EXPECT_EQ(capsule.min_object, 0.7);
  EXPECT_EQ(capsule.blend_mode, nsa::BlendMode::PoissonSource);

  const auto zipper = nsa::LoadPreset("mvtec-zipper").synthesis;
  EXPECT_EQ(zipper.width_bounds, (std::vector<double>{ 0.03, 0.2, 0.03, 0.4 }));
  EXPECT_EQ(zipper.num_patches, 4);

  const auto carpet = nsa::LoadPreset("mvtec-carpet");
  EXPECT_EQ(carpet.synthesis.blend_mode, nsa::BlendMode::PoissonMixed);
  EXPECT_EQ(carpet.synthesis.resize_bounds, (std::vector<double>{ 0.5, 2.0 }));
  EXPECT_EQ(carpet.synthesis.object_mask, nsa::ObjectMask::None);
  EXPECT_EQ(carpet.synthesis.num_patches, 4);

  EXPECT_EQ(nsa::LoadPreset("mvtec-screw").training.epochs, 560);
  EXPECT_EQ(nsa::LoadPreset("mvtec-bottle").training.epochs, 320);

  const auto chest = nsa::LoadPreset("chest-xray").synthesis;
  EXPECT_EQ(chest.gamma_scale, 0.03);
  EXPECT_EQ(chest.gamma_lower, 0.05);
  EXPECT_EQ(chest.min_overlap, 0.7);
  EXPECT_EQ(chest.blend_mode, nsa::BlendMode::PoissonMixed);
}
