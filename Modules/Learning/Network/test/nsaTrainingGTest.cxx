// Tests of the training data pipeline and the trainer (one translation unit: LibTorch headers
// are expensive to compile).

#include "nsaModelImpl.h"
#include "nsaTrainer.h"
#include "nsaTrainingPipeline.h"

#include "nsaError.h"
#include "nsaRandom.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace
{

std::string
OutputPath(const std::string & name)
{
  return std::string(NSA_TEST_OUTPUT_DIR) + "/Learning_" + name;
}

/** A smooth normal "anatomy": a bright disc with soft texture, different per seed, in [0, 1]. */
itk::Image<float, 3>::Pointer
MakeNormalImage(int seed, unsigned int size = 64, unsigned int slices = 1)
{
  auto                 image = itk::Image<float, 3>::New();
  itk::Size<3>         extent{ { size, size, slices } };
  image->SetRegions(itk::ImageRegion<3>(extent));
  image->Allocate();
  nsa::RandomStream stream(static_cast<std::uint64_t>(seed), 0, 0, nsa::RandomPurpose::Test);
  const double      cx = size / 2.0 + stream.Uniform(-4, 4), cy = size / 2.0 + stream.Uniform(-4, 4);
  const double      fx = stream.Uniform(0.2, 0.5), fy = stream.Uniform(0.2, 0.5);
  float *           buffer = image->GetBufferPointer();
  for (unsigned int z = 0; z < slices; ++z)
  {
    for (unsigned int y = 0; y < size; ++y)
    {
      for (unsigned int x = 0; x < size; ++x)
      {
        const double r = std::hypot(x - cx, y - cy) / (0.4 * size);
        const double disc = 1.0 / (1.0 + std::exp(12.0 * (r - 1.0)));
        const double texture = 0.15 * std::sin(fx * x + z) * std::cos(fy * y);
        buffer[(z * size + y) * size + x] = static_cast<float>(std::clamp(disc * (0.6 + texture), 0.0, 1.0));
      }
    }
  }
  return image;
}

std::vector<nsa::TrainingImage>
MakeTrainingImages(int count, unsigned int size = 64)
{
  std::vector<nsa::TrainingImage> images;
  for (int i = 0; i < count; ++i)
  {
    images.push_back({ MakeNormalImage(i + 1, size), nullptr, "image" + std::to_string(i) });
  }
  return images;
}

nsa::TrainerOptions
Options(const std::string & name)
{
  nsa::TrainerOptions options;
  options.model_path = OutputPath(name);
  return options;
}

nsa::ModelDescription
SmallRun()
{
  nsa::ModelDescription description;
  description.network.width_multiplier = 1.0 / 16;
  description.training.batch_size = 2;
  description.training.epochs = 4;
  description.training.samples_per_epoch = 4;
  description.training.num_workers = 2;
  description.training.example_every = 2;
  description.training.device = "cpu";
  description.normalisation.output_range = { 0.0, 1.0 };
  description.seed = 42;
  return description;
}

} // namespace

TEST(Trainer, CosineAnnealingScheduleIsPyTorchs)
{
  nsa::TrainingParameters training;
  training.epochs = 10;
  training.learning_rate = 1e-3;
  training.min_learning_rate = 1e-6;
  EXPECT_DOUBLE_EQ(nsa::Trainer::LearningRate(training, 0), 1e-3);
  EXPECT_DOUBLE_EQ(nsa::Trainer::LearningRate(training, 5), (1e-3 + 1e-6) / 2);
  // eta_min + (base - eta_min)(1 + cos(pi e / T)) / 2 at e = 9: PyTorch prints 2.5447e-05.
  EXPECT_NEAR(nsa::Trainer::LearningRate(training, 9), 1e-6 + (1e-3 - 1e-6) * (1 + std::cos(M_PI * 0.9)) / 2, 1e-15);
  EXPECT_NEAR(nsa::Trainer::LearningRate(training, 9), 2.5447e-05, 1e-9);
}

TEST(Trainer, SamplesDependOnlyOnSeedEpochAndIndex)
{
  nsa::Trainer trainer(SmallRun(), MakeTrainingImages(3), Options("pipeline.pt"));
  EXPECT_EQ(trainer.NumberOfUnits(), 3u);
  const nsa::TrainingSample a = trainer.MakeSample(0, 1);
  EXPECT_EQ(a.sizes, (std::vector<std::int64_t>{ 64, 64 }));
  EXPECT_EQ(a.image, trainer.MakeSample(0, 1).image);
  EXPECT_EQ(a.label, trainer.MakeSample(0, 1).label);
  EXPECT_NE(a.image, trainer.MakeSample(0, 2).image);
  EXPECT_NE(a.image, trainer.MakeSample(1, 1).image);
  // At least one sample of the first few has a blended patch and a non-zero label.
  bool anyLabel = false;
  for (int i = 0; i < 6; ++i)
  {
    const auto sample = trainer.MakeSample(0, i);
    anyLabel = anyLabel || (sample.blended_patches > 0 && *std::max_element(sample.label.begin(), sample.label.end()) > 0.5f);
  }
  EXPECT_TRUE(anyLabel);
}

TEST(Trainer, WorkerThreadsGiveTheSameBatches)
{
  nsa::ModelDescription description = SmallRun();
  const nsa::Trainer::Pipeline pipeline(description, MakeTrainingImages(3));
  double                       wait = 0;
  nsa::SampleProducer          serial(pipeline, 3, 7, 3, 0);
  nsa::SampleProducer          threaded(pipeline, 3, 7, 3, 4);
  for (int b = 0; b < 3; ++b)
  {
    const auto one = serial.NextBatch(wait);
    const auto many = threaded.NextBatch(wait);
    ASSERT_EQ(one.size(), b < 2 ? 3u : 1u);
    ASSERT_EQ(one.size(), many.size());
    for (std::size_t i = 0; i < one.size(); ++i)
    {
      EXPECT_EQ(one[i].image, many[i].image);
      EXPECT_EQ(one[i].label, many[i].label);
    }
  }
  EXPECT_TRUE(serial.NextBatch(wait).empty());
}

TEST(Trainer, RejectsUnsupportedSettings)
{
  nsa::ModelDescription description = SmallRun();
  EXPECT_THROW(nsa::Trainer(description, {}, Options("x.pt")), nsa::InputError);
  description.network.input_channels = 3;
  EXPECT_THROW(nsa::Trainer(description, MakeTrainingImages(2), Options("x.pt")), nsa::ParameterError);
  description = SmallRun();
  description.synthesis.object_mask = nsa::ObjectMask::Image;
  EXPECT_THROW(nsa::Trainer(description, MakeTrainingImages(2), Options("x.pt")), nsa::InputError);
}

TEST(Trainer, FewStepsOnOneExampleDriveTheLossDown)
{
  at::set_num_threads(1);
  nsa::ModelDescription description = SmallRun();
  description.network.width_multiplier = 0.25;
  nsa::Trainer trainer(description, MakeTrainingImages(2), Options("overfit.pt"));
  nsa::TrainingSample sample;
  for (int i = 0; sample.blended_patches == 0; ++i)
  {
    sample = trainer.MakeSample(0, i);
  }
  nsa::Model model(description, 3);
  auto &     network = *model.GetImpl().network;
  network.train();
  torch::optim::Adam optimizer(network.parameters(), torch::optim::AdamOptions(1e-3));
  const at::Tensor   input = at::from_blob(sample.image.data(), { 1, 1, 64, 64 }, at::kFloat).clone();
  const at::Tensor   label = at::from_blob(sample.label.data(), { 1, 1, 64, 64 }, at::kFloat).clone();
  double             first = 0, last = 0;
  for (int step = 0; step < 60; ++step)
  {
    optimizer.zero_grad();
    const at::Tensor loss = at::binary_cross_entropy_with_logits(network.ForwardLogits(input), label);
    loss.backward();
    optimizer.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  // Memorising one 64² example: BCE falls from about ln 2 (an untrained sigmoid output near
  // 0.5) to well below half of it within 60 Adam steps; a broken gradient path stays flat.
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
  // And not only by predicting the label's prior everywhere (which also lowers the loss):
  // the scores inside the anomaly (label >= 0.5) are above those outside. A prior-only
  // model gives a difference of 0; this run measured 0.27 (float rounding changes it by
  // far less than the 0.12 of slack).
  torch::NoGradGuard noGrad;
  const at::Tensor   scores = at::sigmoid(network.ForwardLogits(input));
  const at::Tensor   inside = label >= 0.5;
  const double       meanInside = scores.masked_select(inside).mean().item<double>();
  const double       meanOutside = scores.masked_select(inside.logical_not()).mean().item<double>();
  std::cout << "overfit: loss " << first << " -> " << last << ", mean score inside " << meanInside << ", outside "
            << meanOutside << std::endl;
  EXPECT_GT(meanInside, meanOutside + 0.15);
}

TEST(Trainer, ResumeEqualsUninterruptedRunOnCpu)
{
  at::set_num_threads(1); // identical float arithmetic in both runs
  const auto images = MakeTrainingImages(3);

  nsa::TrainerOptions straight;
  straight.model_path = OutputPath("straight.pt");
  straight.torch_threads = 1;
  const nsa::Model uninterrupted = nsa::Trainer(SmallRun(), images, straight).Train();

  nsa::TrainerOptions interrupted;
  interrupted.model_path = OutputPath("resumed.pt");
  interrupted.torch_threads = 1;
  interrupted.stop_after_epochs = 2; // as if killed after the checkpoint of epoch 2
  std::remove(interrupted.model_path.c_str());
  nsa::Trainer(SmallRun(), images, interrupted).Train();
  EXPECT_FALSE(std::ifstream(interrupted.model_path).good());
  interrupted.stop_after_epochs = 0;
  interrupted.resume = true;
  const nsa::Model resumed = nsa::Trainer(SmallRun(), images, interrupted).Train();

  ASSERT_EQ(resumed.GetDescription().history.size(), 4u);
  for (int e = 0; e < 4; ++e)
  {
    EXPECT_EQ(resumed.GetDescription().history[e].loss, uninterrupted.GetDescription().history[e].loss) << e;
    EXPECT_EQ(resumed.GetDescription().history[e].learning_rate,
              uninterrupted.GetDescription().history[e].learning_rate);
  }
  std::vector<float> input(2 * 64 * 64);
  for (std::size_t i = 0; i < input.size(); ++i)
  {
    input[i] = static_cast<float>(i % 97) / 97.0f;
  }
  EXPECT_EQ(resumed.Evaluate(input, { 2, 1, 64, 64 }), uninterrupted.Evaluate(input, { 2, 1, 64, 64 }));
  // The final model file holds the same weights.
  EXPECT_EQ(nsa::Model::Load(interrupted.model_path).Evaluate(input, { 2, 1, 64, 64 }),
            uninterrupted.Evaluate(input, { 2, 1, 64, 64 }));

  // Outputs of the run: one JSON line per epoch, the loss curve, example pictures.
  std::ifstream log(OutputPath("resumed.log.jsonl"));
  std::string   line;
  int           lines = 0;
  while (std::getline(log, line))
  {
    const auto record = nsa::EpochRecord::FromJson(nlohmann::json::parse(line));
    EXPECT_EQ(record.epoch, ++lines);
  }
  EXPECT_EQ(lines, 4);
  EXPECT_TRUE(std::ifstream(OutputPath("resumed.loss.png")).good());
  EXPECT_TRUE(std::ifstream(OutputPath("resumed.example-2.png")).good());
  EXPECT_TRUE(std::ifstream(OutputPath("resumed.example-4.png")).good());

  // A checkpoint of other settings is refused.
  nsa::ModelDescription other = SmallRun();
  other.synthesis.num_patches = 1;
  EXPECT_THROW(nsa::Trainer(other, images, interrupted).Train(), nsa::ParameterError);
}

TEST(Trainer, RotationAndCropAugmentationAreSeeded)
{
  nsa::ModelDescription description = SmallRun();
  description.training.crop_size = { 48, 40 };
  description.training.rotation_degrees = 20.0;
  nsa::Trainer trainer(description, MakeTrainingImages(3), Options("augment.pt"));
  const nsa::TrainingSample a = trainer.MakeSample(2, 5);
  // Crops of 48 x 40 on a canvas rounded up to 64 x 64 (tensor order y, x).
  EXPECT_EQ(a.sizes, (std::vector<std::int64_t>{ 64, 64 }));
  EXPECT_EQ(a.image, trainer.MakeSample(2, 5).image);
  description.training.rotation_degrees = 0.0;
  nsa::Trainer unrotated(description, MakeTrainingImages(3), Options("augment.pt"));
  EXPECT_NE(a.image, unrotated.MakeSample(2, 5).image);
  // The canvas border outside the crop holds the padding value (normalised minimum 0).
  EXPECT_EQ(a.image[0], 0.0f);
  EXPECT_EQ(a.label[0], 0.0f);
}

TEST(Trainer, ThreeDimensionalModelTrainsOnVolumes)
{
  at::set_num_threads(1);
  nsa::ModelDescription description = SmallRun();
  description.network.dimension = 3;
  description.training.epochs = 1;
  description.training.samples_per_epoch = 2;
  description.training.example_every = 1;
  description.synthesis.object_mask = nsa::ObjectMask::Otsu;
  std::vector<nsa::TrainingImage> images;
  for (int i = 0; i < 2; ++i)
  {
    images.push_back({ MakeNormalImage(i + 1, 32, 32), nullptr, "volume" });
  }
  nsa::TrainerOptions options = Options("volume.pt");
  nsa::Trainer        trainer(description, images, options);
  EXPECT_EQ(trainer.NumberOfUnits(), 2u);
  EXPECT_EQ(trainer.MakeSample(0, 0).sizes, (std::vector<std::int64_t>{ 32, 32, 32 }));
  const nsa::Model model = trainer.Train();
  EXPECT_EQ(model.GetDescription().network.dimension, 3);
  ASSERT_EQ(model.GetDescription().history.size(), 1u);
  EXPECT_TRUE(std::isfinite(model.GetDescription().history[0].loss));
  EXPECT_TRUE(std::ifstream(OutputPath("volume.example-1.png")).good()); // middle slices
}
