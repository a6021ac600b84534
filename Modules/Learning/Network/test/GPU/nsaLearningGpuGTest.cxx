// Tests that need a CUDA device (CTest label REQUIRES_GPU). Each test skips itself when
// LibTorch sees no CUDA device (a CPU build of LibTorch, or no GPU), so the executable
// passes everywhere; on a GPU machine run `ctest -L REQUIRES_GPU`.

#include "nsaModelImpl.h"
#include "nsaPredictor.h"
#include "nsaTrainer.h"

#include "nsaError.h"
#include "nsaRandom.h"

#include <ATen/Functions.h>
#include <torch/cuda.h>

#include "gtest/gtest.h"

#include <cmath>

namespace
{

#define NSA_REQUIRE_CUDA()                                                                                             \
  if (!torch::cuda::is_available())                                                                                    \
  {                                                                                                                    \
    GTEST_SKIP() << "no CUDA device visible to LibTorch";                                                              \
  }

std::string
OutputPath(const std::string & name)
{
  return std::string(NSA_TEST_OUTPUT_DIR) + "/LearningGpu_" + name;
}

itk::Image<float, 3>::Pointer
MakeVolume(unsigned int x, unsigned int y, unsigned int z, int seed)
{
  auto image = itk::Image<float, 3>::New();
  image->SetRegions(itk::ImageRegion<3>(itk::Size<3>{ { x, y, z } }));
  image->Allocate();
  nsa::RandomStream stream(static_cast<std::uint64_t>(seed), 0, 0, nsa::RandomPurpose::Test);
  const double      cx = x / 2.0 + stream.Uniform(-3, 3), cy = y / 2.0 + stream.Uniform(-3, 3);
  float *           buffer = image->GetBufferPointer();
  for (unsigned int k = 0; k < z; ++k)
    for (unsigned int j = 0; j < y; ++j)
      for (unsigned int i = 0; i < x; ++i)
      {
        const double r = std::hypot(i - cx, j - cy) / (0.4 * std::min(x, y));
        buffer[(k * y + j) * x + i] =
          static_cast<float>((r < 1.0 ? 0.6 : 0.0) + 0.1 * std::sin(0.3 * i + 0.2 * k) * (r < 1.0));
      }
  return image;
}

} // namespace

TEST(Gpu, PredictionOnCudaMatchesCpu)
{
  NSA_REQUIRE_CUDA();
  nsa::ModelDescription description;
  description.network.width_multiplier = 0.25;
  const nsa::Model model(description, 5);
  const auto       volume = MakeVolume(70, 60, 9, 1);
  nsa::PredictionParameters parameters;
  parameters.device = "cpu";
  const auto cpu = nsa::Predictor(model, parameters).Predict(volume.GetPointer());
  parameters.device = "cuda";
  const auto cuda = nsa::Predictor(model, parameters).Predict(volume.GetPointer());
  double     maximum = 0.0;
  for (std::size_t i = 0; i < 70 * 60 * 9; ++i)
  {
    maximum = std::max(maximum, std::abs(static_cast<double>(cpu->GetBufferPointer()[i]) - cuda->GetBufferPointer()[i]));
  }
  // float32 on both devices, different kernels (cuDNN may use TF32 on Ampere and later:
  // 10-bit mantissa, about 1e-3 relative per layer): 1e-2 on sigmoid outputs separates
  // rounding from a wrong result.
  EXPECT_LT(maximum, 1e-2);
}

TEST(Gpu, MixedPrecisionTrainingRunsAndResumes)
{
  NSA_REQUIRE_CUDA();
  nsa::ModelDescription description;
  description.network.width_multiplier = 0.25;
  description.training.batch_size = 4;
  description.training.epochs = 3;
  description.training.samples_per_epoch = 16;
  description.training.device = "cuda";
  description.training.mixed_precision = true;
  description.training.example_every = 0;
  description.seed = 9;
  std::vector<nsa::TrainingImage> images;
  for (int i = 0; i < 3; ++i)
  {
    images.push_back({ MakeVolume(64, 64, 1, i + 1), nullptr, "image" });
  }
  nsa::TrainerOptions options;
  options.model_path = OutputPath("amp.pt");
  options.stop_after_epochs = 2;
  nsa::Trainer(description, images, options).Train();
  options.stop_after_epochs = 0;
  options.resume = true;
  const nsa::Model model = nsa::Trainer(description, images, options).Train();
  ASSERT_EQ(model.GetDescription().history.size(), 3u);
  for (const auto & record : model.GetDescription().history)
  {
    EXPECT_TRUE(std::isfinite(record.loss));
  }
  // The model comes back to the CPU and loads anywhere.
  EXPECT_NO_THROW(nsa::Model::Load(options.model_path));
}

TEST(Gpu, DeviceNamesResolve)
{
  NSA_REQUIRE_CUDA();
  EXPECT_TRUE(nsa::ResolveDevice("auto").is_cuda());
  EXPECT_TRUE(nsa::ResolveDevice("cuda:0").is_cuda());
  EXPECT_THROW(nsa::ResolveDevice("cuda:999"), nsa::ParameterError);
}
