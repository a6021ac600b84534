// Tests of the network, the ITK<->tensor bridge, model files and the predictor. One
// translation unit for all of them: each file that includes LibTorch headers costs about
// 10 s of compile time on the project's 2-core machines.

#include "nsaModelImpl.h"
#include "nsaPredictor.h"
#include "nsaResNetEncoderDecoder.h"
#include "nsaStudyPipeline.h"
#include "nsaTensorBridge.h"

#include "nsaImageIO.h"

#include "nsaError.h"

#include "itkImageRegionIteratorWithIndex.h"
#include "itkMath.h"

#include <ATen/Functions.h>
#include <torch/serialize.h>

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

namespace
{

std::string
OutputPath(const std::string & name)
{
  return std::string(NSA_TEST_OUTPUT_DIR) + "/Learning_" + name;
}

nsa::ModelDescription
SmallDescription(int dimension, double width, int channels = 1)
{
  nsa::ModelDescription description;
  description.network.dimension = dimension;
  description.network.width_multiplier = width;
  description.network.input_channels = channels;
  return description;
}

/** A deterministic image with non-trivial geometry: value = x + 100 y + 10000 z. */
template <unsigned int VDimension>
typename itk::Image<float, VDimension>::Pointer
MakeRampImage(const itk::Size<VDimension> & size)
{
  auto image = itk::Image<float, VDimension>::New();
  typename itk::Image<float, VDimension>::RegionType region;
  region.SetSize(size);
  image->SetRegions(region);
  typename itk::Image<float, VDimension>::PointType     origin;
  typename itk::Image<float, VDimension>::SpacingType   spacing;
  typename itk::Image<float, VDimension>::DirectionType direction;
  direction.SetIdentity();
  for (unsigned int axis = 0; axis < VDimension; ++axis)
  {
    origin[axis] = -10.5 + 3 * axis;
    spacing[axis] = 0.5 + 0.25 * axis;
  }
  // A rotation in the x-y plane keeps the direction orthonormal.
  direction(0, 0) = 0.6;
  direction(0, 1) = -0.8;
  direction(1, 0) = 0.8;
  direction(1, 1) = 0.6;
  image->SetOrigin(origin);
  image->SetSpacing(spacing);
  image->SetDirection(direction);
  image->Allocate();
  for (itk::ImageRegionIteratorWithIndex<itk::Image<float, VDimension>> it(image, region); !it.IsAtEnd(); ++it)
  {
    double value = 0;
    double scale = 1;
    for (unsigned int axis = 0; axis < VDimension; ++axis, scale *= 100)
    {
      value += scale * it.GetIndex()[axis];
    }
    it.Set(static_cast<float>(value));
  }
  return image;
}

template <unsigned int VDimension>
void
ExpectSameGeometry(const itk::ImageBase<VDimension> * a, const itk::ImageBase<VDimension> * b)
{
  EXPECT_EQ(a->GetLargestPossibleRegion(), b->GetLargestPossibleRegion());
  EXPECT_EQ(a->GetOrigin(), b->GetOrigin());
  EXPECT_EQ(a->GetSpacing(), b->GetSpacing());
  EXPECT_EQ(a->GetDirection(), b->GetDirection());
}

} // namespace

// ---------------------------------------------------------------------------------------
// Network

TEST(Network, ParameterCountEqualsPaperModel)
{
  // The counts PyTorch gives for the paper's resnet18_enc_dec (issue 7; equal to torchvision's
  // ResNet-18 without fc, 11,176,512 for 3 channels, plus nin 163,840 and decoder 157,360).
  nsa::NetworkParameters configuration;
  configuration.input_channels = 1;
  EXPECT_EQ(nsa::MakeNetwork(configuration)->ParameterCount(), 11491440);
  configuration.input_channels = 3;
  EXPECT_EQ(nsa::MakeNetwork(configuration)->ParameterCount(), 11497712);
}

TEST(Network, ParameterNamesArePyTorchNames)
{
  nsa::NetworkParameters configuration;
  auto                      network = nsa::MakeNetwork(configuration);
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto & item : network->named_parameters())
  {
    shapes[item.key()] = item.value().sizes().vec();
  }
  std::set<std::string> buffers;
  for (const auto & item : network->named_buffers())
  {
    buffers.insert(item.key());
  }
  // Shapes as PyTorch stores them (transposed convolutions: [in, out, k, k]).
  const std::map<std::string, std::vector<std::int64_t>> expected{
    { "conv1.weight", { 64, 1, 7, 7 } },
    { "bn1.weight", { 64 } },
    { "layer1.0.conv1.weight", { 64, 64, 3, 3 } },
    { "layer1.1.bn2.bias", { 64 } },
    { "layer2.0.conv1.weight", { 128, 64, 3, 3 } },
    { "layer2.0.downsample.0.weight", { 128, 64, 1, 1 } },
    { "layer2.0.downsample.1.weight", { 128 } },
    { "layer4.1.conv2.weight", { 512, 512, 3, 3 } },
    { "nin.0.weight", { 256, 512, 1, 1 } },
    { "nin.2.weight", { 128, 256, 1, 1 } },
    { "uplayer1.0.conv1.weight", { 128, 64, 3, 3 } },
    { "uplayer1.0.upsample.0.weight", { 128, 64, 1, 1 } },
    { "uplayer3.0.conv2.weight", { 16, 16, 3, 3 } },
    { "convtranspose1.weight", { 16, 1, 7, 7 } },
  };
  for (const auto & entry : expected)
  {
    ASSERT_EQ(shapes.count(entry.first), 1u) << entry.first;
    EXPECT_EQ(shapes[entry.first], entry.second) << entry.first;
  }
  EXPECT_EQ(shapes.size(), 90u); // PyTorch: len(list(model.parameters())) of resnet18_enc_dec
  EXPECT_EQ(buffers.count("layer3.0.downsample.1.running_var"), 1u);
  EXPECT_EQ(buffers.count("uplayer2.0.bn1.num_batches_tracked"), 1u);
}

TEST(Network, OutputShapes2DAnd3DAtSeveralWidths)
{
  torch::NoGradGuard noGrad;
  for (double width : { 1.0 / 16, 0.25, 1.0 })
  {
    for (int channels : { 1, 3 })
    {
      nsa::NetworkParameters configuration;
      configuration.width_multiplier = width;
      configuration.input_channels = channels;
      auto network = nsa::MakeNetwork(configuration);
      network->eval();
      const at::Tensor output = network->forward(at::rand({ 2, channels, 64, 96 }));
      EXPECT_EQ(output.sizes().vec(), (std::vector<std::int64_t>{ 2, 1, 64, 96 })) << width;
      EXPECT_GE(output.min().item<float>(), 0.0f);
      EXPECT_LE(output.max().item<float>(), 1.0f);
    }
  }
  for (double width : { 1.0 / 16, 0.125 })
  {
    nsa::NetworkParameters configuration;
    configuration.dimension = 3;
    configuration.width_multiplier = width;
    auto network = nsa::MakeNetwork(configuration);
    network->eval();
    const at::Tensor output = network->forward(at::rand({ 1, 1, 32, 64, 32 }));
    EXPECT_EQ(output.sizes().vec(), (std::vector<std::int64_t>{ 1, 1, 32, 64, 32 })) << width;
  }
}

TEST(Network, WidthMultiplierScalesChannels)
{
  nsa::NetworkParameters configuration;
  configuration.width_multiplier = 0.25;
  EXPECT_EQ(configuration.Channels(64), 16);
  EXPECT_EQ(configuration.Channels(16), 4);
  configuration.width_multiplier = 1.0 / 64;
  EXPECT_EQ(configuration.Channels(16), 1); // never zero channels
  auto network = nsa::MakeNetwork(configuration);
  EXPECT_LT(network->ParameterCount(), 11491440 / 100);
}

TEST(Network, OutputBiasLetsTheSigmoidPassOneHalf)
{
  // The paper's last layer has no bias and sees ReLU outputs: where its weights are not
  // positive (as training drives most of them), the sigmoid output cannot pass 0.5. With
  // output_bias the same network adds one learnt constant to its logits.
  torch::NoGradGuard     noGrad;
  nsa::NetworkParameters configuration;
  configuration.width_multiplier = 0.125;
  auto paper = nsa::MakeNetwork(configuration);
  configuration.output_bias = true;
  auto biased = nsa::MakeNetwork(configuration);
  EXPECT_EQ(biased->ParameterCount(), paper->ParameterCount() + 1);
  std::map<std::string, at::Tensor> paperTensors;
  for (const auto & item : paper->named_parameters())
  {
    if (item.key() == "convtranspose1.weight")
    {
      item.value().copy_(-item.value().abs());
    }
    paperTensors[item.key()] = item.value();
  }
  for (const auto & item : paper->named_buffers())
  {
    paperTensors[item.key()] = item.value();
  }
  at::Tensor bias;
  for (const auto & item : biased->named_parameters())
  {
    if (item.key() == "convtranspose1.bias")
    {
      bias = item.value();
    }
    else
    {
      item.value().copy_(paperTensors.at(item.key()));
    }
  }
  for (const auto & item : biased->named_buffers())
  {
    item.value().copy_(paperTensors.at(item.key()));
  }
  ASSERT_TRUE(bias.defined()) << "no convtranspose1.bias";
  EXPECT_EQ(bias.sizes().vec(), std::vector<std::int64_t>{ 1 });
  bias.fill_(3.0);
  paper->eval();
  biased->eval();
  const at::Tensor input = at::rand({ 2, 1, 64, 64 });
  EXPECT_LE(paper->forward(input).max().item<float>(), 0.5f);
  EXPECT_TRUE(at::allclose(biased->ForwardLogits(input), paper->ForwardLogits(input) + 3.0));
  EXPECT_GT(biased->forward(input).max().item<float>(), 0.5f);
}

TEST(Network, WithoutTheFinalReluNegativeWeightsCanRaiseTheOutput)
{
  // final_relu false keeps the parameters (same names and shapes) and only drops the ReLU
  // that ends the decoder's last block: with every weight of the last layer negative, the
  // paper's network stays at or below 0.5, this one passes it where the features are negative.
  torch::NoGradGuard     noGrad;
  nsa::NetworkParameters configuration;
  configuration.width_multiplier = 0.125;
  torch::manual_seed(3);
  auto paper = nsa::MakeNetwork(configuration);
  configuration.final_relu = false;
  torch::manual_seed(3);
  auto open = nsa::MakeNetwork(configuration);
  EXPECT_EQ(open->ParameterCount(), paper->ParameterCount());
  std::map<std::string, at::Tensor> paperTensors;
  for (const auto & item : paper->named_parameters())
  {
    if (item.key() == "convtranspose1.weight")
    {
      item.value().copy_(-item.value().abs());
    }
    paperTensors[item.key()] = item.value();
  }
  std::size_t copied = 0;
  for (const auto & item : open->named_parameters())
  {
    item.value().copy_(paperTensors.at(item.key()));
    ++copied;
  }
  EXPECT_EQ(copied, paperTensors.size());
  paper->train(); // batch statistics: the last block's sum has both signs
  open->train();
  const at::Tensor input = at::rand({ 4, 1, 64, 64 });
  const at::Tensor paperOutput = paper->forward(input);
  const at::Tensor openOutput = open->forward(input);
  EXPECT_LE(paperOutput.max().item<float>(), 0.5f);
  EXPECT_GT(openOutput.max().item<float>(), 0.5f);
  EXPECT_LT(openOutput.min().item<float>(), 0.5f);
  // The state dict is the paper's: the model-file check expects the same tensors.
  const auto withoutRelu = nsa::ExpectedTensors(configuration);
  configuration.final_relu = true;
  const auto withRelu = nsa::ExpectedTensors(configuration);
  ASSERT_EQ(withoutRelu.size(), withRelu.size());
  for (const auto & [name, spec] : withRelu)
  {
    ASSERT_EQ(withoutRelu.count(name), 1u) << name;
    EXPECT_EQ(withoutRelu.at(name).sizes, spec.sizes) << name;
  }
}

TEST(Network, RejectsInputsOfWrongSizeOrChannels)
{
  nsa::NetworkParameters configuration;
  configuration.width_multiplier = 0.125;
  auto network = nsa::MakeNetwork(configuration);
  EXPECT_THROW(network->forward(at::rand({ 1, 1, 60, 64 })), nsa::InputError);
  EXPECT_THROW(network->forward(at::rand({ 1, 2, 64, 64 })), nsa::InputError);
  EXPECT_THROW(network->forward(at::rand({ 1, 64, 64 })), nsa::InputError);
}

TEST(Network, ReluOutputForIntensityLabels)
{
  torch::NoGradGuard        noGrad;
  nsa::NetworkParameters configuration;
  configuration.width_multiplier = 0.125;
  configuration.output_activation = nsa::OutputActivation::ReLU;
  auto network = nsa::MakeNetwork(configuration);
  network->eval();
  const at::Tensor input = at::rand({ 1, 1, 64, 64 });
  const at::Tensor logits = network->ForwardLogits(input);
  EXPECT_TRUE(at::equal(network->forward(input), at::relu(logits)));
}

TEST(Network, ImportsPyTorchStateDictByName)
{
  // A state dict as Python's torch.save(model.state_dict()) writes it (the same pickle format
  // torch::pickle_save writes), built from another network with different weights.
  nsa::Model source(SmallDescription(2, 0.25), 11);
  nsa::Model target(SmallDescription(2, 0.25), 12);
  c10::Dict<std::string, at::Tensor> stateDict;
  for (const auto & item : source.GetImpl().network->named_parameters())
  {
    stateDict.insert(item.key(), item.value().detach().clone());
  }
  for (const auto & item : source.GetImpl().network->named_buffers())
  {
    // Distinct running statistics so that a buffer left out would show in eval mode.
    stateDict.insert(item.key(),
                     item.value().is_floating_point() ? item.value() + 0.25 * at::rand_like(item.value())
                                                      : item.value().clone());
  }
  {
    torch::NoGradGuard noGrad;
    for (const auto & item : source.GetImpl().network->named_buffers())
    {
      item.value().copy_(stateDict.at(item.key()));
    }
  }
  const std::string path = OutputPath("state_dict.pt");
  {
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(stateDict));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::vector<float> input(2 * 64 * 64);
  for (std::size_t i = 0; i < input.size(); ++i)
  {
    input[i] = static_cast<float>((i * 7919) % 101) / 100.0f;
  }
  const std::vector<std::int64_t> sizes{ 2, 1, 64, 64 };
  EXPECT_NE(source.Evaluate(input, sizes), target.Evaluate(input, sizes));
  target.ImportStateDict(path);
  EXPECT_EQ(source.Evaluate(input, sizes), target.Evaluate(input, sizes)); // same weights, same code: bit-equal

  // A training-checkpoint dict {"model_state_dict": ...} of the paper's code loads too.
  c10::impl::GenericDict checkpoint(c10::StringType::get(), c10::AnyType::get());
  checkpoint.insert("epoch", c10::IValue(int64_t{ 3 }));
  checkpoint.insert("model_state_dict", c10::IValue(stateDict));
  {
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(checkpoint));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  nsa::Model other(SmallDescription(2, 0.25), 13);
  other.ImportStateDict(path);
  EXPECT_EQ(source.Evaluate(input, sizes), other.Evaluate(input, sizes));

  // A state dict of another width names the mismatch.
  nsa::Model wider(SmallDescription(2, 0.5), 13);
  try
  {
    wider.ImportStateDict(path);
    ADD_FAILURE() << "expected an error";
  }
  catch (const nsa::InputError & error)
  {
    EXPECT_NE(std::string(error.what()).find("shape"), std::string::npos) << error.what();
  }
  // Missing and unexpected keys.
  EXPECT_EQ(stateDict.erase("nin.0.weight"), 1u);
  {
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(stateDict));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EXPECT_THROW(other.ImportStateDict(path), nsa::InputError);
  EXPECT_THROW(other.ImportStateDict(OutputPath("no_such_file.pt")), nsa::InputError);
  std::remove(path.c_str());
}

TEST(Network, MatchesPyTorchReferenceModel)
{
  // Python's PyTorch (Debian python3-torch) builds the paper's network, saves its state dict
  // with torch.save and scores a random input; the imported C++ network must agree.
  // The Python side is the package's network (nsatoolkit.torch, Wrapping/Python), found in the
  // build tree's python folder.
  const std::string python = std::string("PYTHONPATH=") + NSA_PYTHON_PACKAGE_DIR + " /usr/bin/python3";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0)
  {
    GTEST_SKIP() << "python3-torch is not installed (Utilities/setup.sh installs it)";
  }
  ASSERT_EQ(std::system((python + " -c 'import nsatoolkit.torch'").c_str()), 0)
    << "nsatoolkit.torch is not importable from " << NSA_PYTHON_PACKAGE_DIR << " (build the _nsatoolkit target)";
  const std::string stateDict = OutputPath("pytorch_state_dict.pt");
  const std::string inputPath = OutputPath("pytorch_input.raw");
  const std::string outputPath = OutputPath("pytorch_output.raw");
  const std::string command = python + " " + NSA_PYTORCH_REFERENCE_SCRIPT + " export " + stateDict + " " +
                              inputPath + " " + outputPath + " " + OutputPath("pytorch_checkpoint.pt") +
                              " --width 0.5 --channels 3 --size 64 96";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto readFloats = [](const std::string & path) {
    std::ifstream      file(path, std::ios::binary);
    std::vector<float> values;
    float              value;
    while (file.read(reinterpret_cast<char *>(&value), sizeof(value)))
    {
      values.push_back(value);
    }
    return values;
  };
  const std::vector<float> input = readFloats(inputPath);
  const std::vector<float> expected = readFloats(outputPath);
  ASSERT_EQ(input.size(), 3u * 64 * 96);
  ASSERT_EQ(expected.size(), 64u * 96);
  nsa::Model model(SmallDescription(2, 0.5, 3), 1);
  model.ImportStateDict(stateDict);
  const std::vector<float> output = model.Evaluate(input, { 1, 3, 64, 96 });
  double maximum = 0.0;
  for (std::size_t i = 0; i < output.size(); ++i)
  {
    maximum = std::max(maximum, std::abs(static_cast<double>(output[i]) - expected[i]));
  }
  // Same float32 arithmetic in a different order (PyTorch's and LibTorch's kernels may pick
  // different convolution algorithms): differences of a few 1e-7 per layer over ~25 layers;
  // 1e-4 on sigmoid outputs is far above that and far below any topology or weight mismatch
  // (which changes outputs by 1e-2 or more).
  EXPECT_LT(maximum, 1e-4);

  // The paper's training checkpoint format (model, Adam state, None) loads as well, and
  // gives other weights (one Adam step later).
  nsa::Model fromCheckpoint(SmallDescription(2, 0.5, 3), 1);
  fromCheckpoint.ImportStateDict(OutputPath("pytorch_checkpoint.pt"));
  EXPECT_NE(fromCheckpoint.Evaluate(input, { 1, 3, 64, 96 }), output);
}

TEST(Network, MatchesPyTorchReferenceModelWithoutTheFinalRelu)
{
  // network.final_relu false in Python (nsatoolkit.torch) and in C++ give the same network.
  const std::string python = std::string("PYTHONPATH=") + NSA_PYTHON_PACKAGE_DIR + " /usr/bin/python3";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0)
  {
    GTEST_SKIP() << "python3-torch is not installed (Utilities/setup.sh installs it)";
  }
  const std::string stateDict = OutputPath("pytorch_open_state_dict.pt");
  const std::string inputPath = OutputPath("pytorch_open_input.raw");
  const std::string outputPath = OutputPath("pytorch_open_output.raw");
  const std::string command = python + " " + NSA_PYTORCH_REFERENCE_SCRIPT + " export " + stateDict + " " +
                              inputPath + " " + outputPath + " --width 0.25 --size 64 --no_final_relu";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto readFloats = [](const std::string & path) {
    std::ifstream      file(path, std::ios::binary);
    std::vector<float> values;
    float              value;
    while (file.read(reinterpret_cast<char *>(&value), sizeof(value)))
    {
      values.push_back(value);
    }
    return values;
  };
  const std::vector<float> input = readFloats(inputPath);
  const std::vector<float> expected = readFloats(outputPath);
  ASSERT_EQ(input.size(), 64u * 64);
  ASSERT_EQ(expected.size(), 64u * 64);
  nsa::ModelDescription description = SmallDescription(2, 0.25);
  description.network.final_relu = false;
  nsa::Model model(description, 1);
  model.ImportStateDict(stateDict);
  const std::vector<float> output = model.Evaluate(input, { 1, 1, 64, 64 });
  double maximum = 0.0;
  for (std::size_t i = 0; i < output.size(); ++i)
  {
    maximum = std::max(maximum, std::abs(static_cast<double>(output[i]) - expected[i]));
  }
  EXPECT_LT(maximum, 1e-4); // the tolerance of MatchesPyTorchReferenceModel
  // The same weights with the paper's final ReLU give another map.
  nsa::Model withRelu(SmallDescription(2, 0.25), 1);
  withRelu.ImportStateDict(stateDict);
  const std::vector<float> reluOutput = withRelu.Evaluate(input, { 1, 1, 64, 64 });
  double difference = 0.0;
  for (std::size_t i = 0; i < output.size(); ++i)
  {
    difference = std::max(difference, std::abs(static_cast<double>(output[i]) - reluOutput[i]));
  }
  EXPECT_GT(difference, 1e-3);
}

// ---------------------------------------------------------------------------------------
// ITK <-> tensor bridge

TEST(TensorBridge, RoundTrip2DAnd3DKeepsValuesLayoutAndGeometry)
{
  const auto image2 = MakeRampImage<2>({ { 5, 3 } });
  const at::Tensor tensor2 = nsa::ImageToTensor<2>(image2.GetPointer());
  EXPECT_EQ(tensor2.sizes().vec(), (std::vector<std::int64_t>{ 1, 1, 3, 5 })); // [N, C, H=y, W=x]
  EXPECT_EQ(tensor2[0][0][2][4].item<float>(), 4 + 100 * 2);                   // x = 4, y = 2
  const auto back2 = nsa::TensorToImage<2>(tensor2, image2.GetPointer());
  ExpectSameGeometry<2>(back2, image2);
  EXPECT_TRUE(std::equal(back2->GetBufferPointer(), back2->GetBufferPointer() + 15, image2->GetBufferPointer()));

  const auto image3 = MakeRampImage<3>({ { 4, 3, 2 } });
  const at::Tensor tensor3 = nsa::ImageToTensor<3>(image3.GetPointer());
  EXPECT_EQ(tensor3.sizes().vec(), (std::vector<std::int64_t>{ 1, 1, 2, 3, 4 })); // [N, C, D=z, H=y, W=x]
  EXPECT_EQ(tensor3[0][0][1][2][3].item<float>(), 3 + 100 * 2 + 10000 * 1);
  const auto back3 = nsa::TensorToImage<3>(tensor3 * 2, image3.GetPointer());
  ExpectSameGeometry<3>(back3, image3);
  for (std::size_t i = 0; i < 24; ++i)
  {
    EXPECT_EQ(back3->GetBufferPointer()[i], 2 * image3->GetBufferPointer()[i]);
  }
  // The tensor owns its memory.
  image3->FillBuffer(0.0f);
  EXPECT_EQ(tensor3[0][0][1][2][3].item<float>(), 10203.0f);

  const auto second = MakeRampImage<3>({ { 4, 3, 2 } });
  const at::Tensor channels = nsa::ImagesToTensor<3>({ image3.GetPointer(), second.GetPointer() });
  EXPECT_EQ(channels.sizes().vec(), (std::vector<std::int64_t>{ 1, 2, 2, 3, 4 }));
  EXPECT_EQ(channels[0][1][1][2][3].item<float>(), 10203.0f);
}

TEST(TensorBridge, RejectsMismatchedSizes)
{
  const auto image = MakeRampImage<3>({ { 4, 3, 2 } });
  EXPECT_THROW(nsa::TensorToImage<3>(at::zeros({ 1, 1, 2, 4, 3 }), image.GetPointer()), nsa::InputError);
  EXPECT_THROW(nsa::TensorToImage<3>(at::zeros({ 2, 1, 2, 3, 4 }), image.GetPointer()), nsa::InputError);
  const auto other = MakeRampImage<3>({ { 4, 3, 3 } });
  EXPECT_THROW(nsa::ImagesToTensor<3>({ image.GetPointer(), other.GetPointer() }), nsa::InputError);
}

TEST(TensorBridge, CentredPaddingAndCropInvert)
{
  const at::Tensor x = at::rand({ 2, 1, 33, 64 });
  std::vector<std::int64_t> before;
  const at::Tensor padded = nsa::PadSpatialCentred(x, 2, 32, -1.0, before);
  EXPECT_EQ(padded.sizes().vec(), (std::vector<std::int64_t>{ 2, 1, 64, 64 }));
  EXPECT_EQ(before, (std::vector<std::int64_t>{ 15, 0 }));
  EXPECT_EQ(padded[0][0][0][0].item<float>(), -1.0f);
  EXPECT_TRUE(at::equal(nsa::CropSpatial(padded, before, { 33, 64 }), x));
}

// ---------------------------------------------------------------------------------------
// Model files and checkpoints

TEST(ModelFile, SaveLoadGivesIdenticalOutputsAndDescription)
{
  nsa::ModelDescription description = SmallDescription(2, 0.25, 2);
  description.synthesis.num_patches = 4;
  description.normalisation.mode = nsa::NormalisationMode::Window;
  description.preset = "test-preset";
  description.seed = 77;
  nsa::EpochRecord record;
  record.epoch = 1;
  record.loss = 0.5;
  record.learning_rate = 1e-3;
  description.history.push_back(record);
  nsa::Model model(description, 5);
  // Non-trivial running statistics: a few forward passes in training mode.
  {
    torch::NoGradGuard noGrad;
    model.GetImpl().network->train();
    for (int i = 0; i < 3; ++i)
    {
      model.GetImpl().network->forward(at::rand({ 2, 2, 64, 64 }));
    }
  }
  const std::string path = OutputPath("model.nsa.pt");
  model.Save(path);
  const nsa::Model loaded = nsa::Model::Load(path);
  std::vector<float> input(2 * 2 * 32 * 64);
  for (std::size_t i = 0; i < input.size(); ++i)
  {
    input[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f;
  }
  const std::vector<std::int64_t> sizes{ 2, 2, 32, 64 };
  EXPECT_EQ(model.Evaluate(input, sizes), loaded.Evaluate(input, sizes));
  EXPECT_EQ(loaded.GetDescription().ToJson(), model.GetDescription().ToJson());
  EXPECT_EQ(loaded.GetDescription().synthesis.num_patches, 4);
  EXPECT_EQ(loaded.GetDescription().history.size(), 1u);
  std::remove(path.c_str());
}

namespace
{

/** Copies every tensor and sub-archive of `from` into `to` (a model file's weights). */
void
CopyArchive(torch::serialize::InputArchive & from, torch::serialize::OutputArchive & to)
{
  for (const std::string & key : from.keys())
  {
    at::Tensor tensor;
    if (from.try_read(key, tensor))
    {
      to.write(key, tensor);
      continue;
    }
    torch::serialize::InputArchive child;
    if (from.try_read(key, child))
    {
      torch::serialize::OutputArchive copy;
      CopyArchive(child, copy);
      to.write(key, copy);
    }
  }
}

} // namespace

TEST(ModelFile, FileWithTheNetworkKeysInTwoSectionsLoads)
{
  // Model files written before the network keys had one home (among them the default model
  // shipped until 2026-12-04) hold dimension, width_multiplier and input_channels in both
  // "network" and "training". Such a file is made here from the shipped model: the same
  // weights, the keys copied into "training". nsa::MigrateNetworkKeys keeps the network's
  // copy (they agree) and the description has them in "network" only.
  const nsa::Model shipped = nsa::Model::Load(std::string(NSA_DATA_DIR) + "/Models/brain-mri-2d.pt");
  nlohmann::json    before = shipped.GetDescription().ToJson();
  for (const char * key : { "dimension", "width_multiplier", "input_channels" })
  {
    ASSERT_FALSE(before["training"].contains(key));
    before["training"][key] = before["network"][key];
  }
  const std::string oldPath = OutputPath("two-sections.pt");
  {
    torch::serialize::InputArchive in;
    in.load_from(std::string(NSA_DATA_DIR) + "/Models/brain-mri-2d.pt");
    c10::IValue format;
    ASSERT_TRUE(in.try_read("format", format));
    torch::serialize::InputArchive weights;
    ASSERT_TRUE(in.try_read("network", weights));
    torch::serialize::OutputArchive out;
    out.write("format", format);
    out.write("configuration", c10::IValue(before.dump()));
    torch::serialize::OutputArchive weightsCopy;
    CopyArchive(weights, weightsCopy);
    out.write("network", weightsCopy);
    out.save_to(oldPath);
  }
  const nsa::Model model = nsa::Model::Load(oldPath);
  const nsa::NetworkParameters & network = model.GetDescription().network;
  EXPECT_EQ(network.dimension, 2);
  EXPECT_EQ(network.width_multiplier, 0.25);
  EXPECT_EQ(network.input_channels, 1);
  const nlohmann::json json = model.GetDescription().ToJson();
  EXPECT_FALSE(json["training"].contains("dimension"));
  EXPECT_FALSE(json["training"].contains("width_multiplier"));
  EXPECT_EQ(json, shipped.GetDescription().ToJson());
  // Written again, it reads back the same, and its output is the shipped model's.
  const std::string path = OutputPath("shipped-again.pt");
  model.Save(path);
  const nsa::Model again = nsa::Model::Load(path);
  EXPECT_EQ(again.GetDescription().ToJson(), json);
  std::vector<float> input(32 * 32);
  for (std::size_t i = 0; i < input.size(); ++i)
  {
    input[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
  }
  const auto expected = shipped.Evaluate(input, { 1, 1, 32, 32 });
  EXPECT_EQ(model.Evaluate(input, { 1, 1, 32, 32 }), expected);
  EXPECT_EQ(again.Evaluate(input, { 1, 1, 32, 32 }), expected);
  std::remove(path.c_str());
  std::remove(oldPath.c_str());
}

TEST(ModelFile, SameSeedSameWeights)
{
  const std::vector<float>        input(64 * 64, 0.5f);
  const std::vector<std::int64_t> sizes{ 1, 1, 64, 64 };
  EXPECT_EQ(nsa::Model(SmallDescription(2, 0.125), 3).Evaluate(input, sizes),
            nsa::Model(SmallDescription(2, 0.125), 3).Evaluate(input, sizes));
  EXPECT_NE(nsa::Model(SmallDescription(2, 0.125), 3).Evaluate(input, sizes),
            nsa::Model(SmallDescription(2, 0.125), 4).Evaluate(input, sizes));
}

TEST(ModelFile, RejectsBadFiles)
{
  EXPECT_THROW(nsa::Model::Load(OutputPath("missing.pt")), nsa::InputError);
  const std::string path = OutputPath("not_a_model.pt");
  std::ofstream(path) << "not a model";
  EXPECT_THROW(nsa::Model::Load(path), nsa::InputError);
  // A LibTorch archive without the NSA format tag.
  torch::serialize::OutputArchive archive;
  archive.write("something", c10::IValue(int64_t{ 1 }));
  archive.save_to(path);
  EXPECT_THROW(nsa::Model::Load(path), nsa::InputError);
  std::remove(path.c_str());
  // Unwritable folder: an OutputError and no file.
  EXPECT_THROW(nsa::Model(SmallDescription(2, 0.125)).Save("/nonexistent-folder/model.pt"), nsa::OutputError);
}

TEST(Network, ExpectedTensorsMatchTheNetwork)
{
  for (int dimension : { 2, 3 })
  {
    for (double width : { 1.0 / 64.0, 0.25, 0.5 })
    {
      for (int channels : { 1, 3 })
      {
        nsa::NetworkParameters configuration = SmallDescription(dimension, width, channels).network;
        const auto                network = nsa::MakeNetwork(configuration);
        std::map<std::string, nsa::TensorSpec> built;
        for (const auto & item : network->named_parameters())
        {
          built[item.key()] = nsa::TensorSpec{ item.value().sizes().vec(), item.value().scalar_type() };
        }
        for (const auto & item : network->named_buffers())
        {
          built[item.key()] = nsa::TensorSpec{ item.value().sizes().vec(), item.value().scalar_type() };
        }
        const auto expected = nsa::ExpectedTensors(configuration);
        ASSERT_EQ(expected.size(), built.size()) << dimension << "D width " << width;
        for (const auto & [name, spec] : built)
        {
          ASSERT_EQ(expected.count(name), 1u) << name;
          EXPECT_EQ(expected.at(name).sizes, spec.sizes) << name;
          EXPECT_EQ(expected.at(name).type, spec.type) << name;
        }
      }
    }
  }
}

namespace
{
std::string
LoadError(const std::string & path)
{
  try
  {
    nsa::Model::Load(path);
  }
  catch (const nsa::InputError & error)
  {
    return error.what();
  }
  return "no error";
}
} // namespace

TEST(ModelFile, WeightsAreCheckedAgainstTheDescriptionBeforeTheNetworkIsBuilt)
{
  const std::string path = OutputPath("hostile_model.pt");
  // A description saying width 4 over the weights of width 0.25: refused from the shapes,
  // without building the 4x network (about 740 MB).
  {
    nsa::Model model(SmallDescription(2, 0.25), 3);
    model.GetDescription().network.width_multiplier = 4.0;
    model.Save(path);
  }
  EXPECT_EQ(LoadError(path), "model file '" + path +
                               "': weights do not fit the described network: tensor 'bn1.bias' has shape [16], the "
                               "network expects [256]");
  // A conv1 kernel of 6x7 instead of 7x7.
  {
    nsa::Model model(SmallDescription(2, 0.25), 3);
    torch::NoGradGuard noGrad;
    model.GetImpl().network->named_parameters()["conv1.weight"].set_data(at::zeros({ 16, 1, 6, 7 }));
    model.Save(path);
  }
  EXPECT_EQ(LoadError(path), "model file '" + path +
                               "': weights do not fit the described network: tensor 'conv1.weight' has shape "
                               "[16, 1, 6, 7], the network expects [16, 1, 7, 7]");
  // A tensor of another element type.
  {
    nsa::Model model(SmallDescription(2, 0.25), 3);
    torch::NoGradGuard noGrad;
    auto weight = model.GetImpl().network->named_parameters()["nin.0.weight"];
    weight.set_data(weight.to(at::kDouble));
    model.Save(path);
  }
  EXPECT_NE(LoadError(path).find("tensor 'nin.0.weight' holds Double values, the network expects Float"),
            std::string::npos)
    << LoadError(path);
  std::remove(path.c_str());
}

TEST(ModelFile, LibTorchErrorsReachUsersWithoutTheirStackDump)
{
  try
  {
    at::empty({ -1 });
    FAIL() << "no error";
  }
  catch (const c10::Error & error)
  {
    EXPECT_NE(std::string(error.what()).find("Exception raised from"), std::string::npos);
    const std::string message = nsa::UserMessage(error);
    EXPECT_EQ(message.find("Exception raised from"), std::string::npos) << message;
    EXPECT_EQ(message.find("frame #"), std::string::npos) << message;
    EXPECT_FALSE(message.empty());
  }
}

// ---------------------------------------------------------------------------------------
// Predictor

TEST(Predictor, SliceWiseKeepsGeometryAndEqualsPerSlicePrediction)
{
  nsa::Model model(SmallDescription(2, 0.125), 21);
  const auto volume = MakeRampImage<3>({ { 37, 30, 5 } });
  // Bring the ramp into [0, 1] (the predictor expects normalised inputs).
  for (std::size_t i = 0; i < 37 * 30 * 5; ++i)
  {
    volume->GetBufferPointer()[i] = volume->GetBufferPointer()[i] / 50000.0f;
  }
  // The ramp's grid is rotated by 53 degrees in the x-y plane: patient x runs closest to
  // voxel axis 1, patient y to voxel axis 0.
  const int expectedVoxelAxis[3] = { 1, 0, 2 };
  for (int patientAxis = 0; patientAxis < 3; ++patientAxis)
  {
    const int axis = nsa::SliceAxisOf(volume.GetPointer(), patientAxis);
    EXPECT_EQ(axis, expectedVoxelAxis[patientAxis]);
    nsa::PredictionParameters parameters;
    parameters.slice_axis = patientAxis;
    parameters.batch_size = 3;
    parameters.device = "cpu";
    const auto map = nsa::Predictor(model, parameters).Predict(volume.GetPointer());
    ExpectSameGeometry<3>(map, volume);

    // Slice 1 across the axis, scored as a 2D image, must equal the map's slice 1.
    itk::Size<2> sliceSize;
    int          k = 0;
    for (int a = 0; a < 3; ++a)
    {
      if (a != axis)
      {
        sliceSize[k++] = volume->GetLargestPossibleRegion().GetSize()[a];
      }
    }
    auto slice = itk::Image<float, 2>::New();
    slice->SetRegions(itk::ImageRegion<2>(sliceSize));
    slice->Allocate();
    for (itk::ImageRegionIteratorWithIndex<itk::Image<float, 2>> it(slice, slice->GetLargestPossibleRegion());
         !it.IsAtEnd();
         ++it)
    {
      itk::Index<3> index;
      index[axis] = 1;
      k = 0;
      for (int a = 0; a < 3; ++a)
      {
        if (a != axis)
        {
          index[a] = it.GetIndex()[k++];
        }
      }
      it.Set(volume->GetPixel(index));
    }
    const auto sliceMap = nsa::Predictor(model, parameters).Predict(slice.GetPointer());
    for (itk::ImageRegionIteratorWithIndex<itk::Image<float, 2>> it(sliceMap, sliceMap->GetLargestPossibleRegion());
         !it.IsAtEnd();
         ++it)
    {
      itk::Index<3> index;
      index[axis] = 1;
      k = 0;
      for (int a = 0; a < 3; ++a)
      {
        if (a != axis)
        {
          index[a] = it.GetIndex()[k++];
        }
      }
      // Same network, same padded input: only batching differs (float rounding of the
      // convolution backend, far below 1e-5 for outputs in [0, 1]).
      EXPECT_NEAR(map->GetPixel(index), it.Get(), 1e-5) << "axis " << axis;
    }
  }
}

TEST(Predictor, SliceAxisIsThePatientAxisWhateverTheVoxelOrder)
{
  auto image = itk::Image<float, 3>::New();
  image->SetRegions(itk::ImageRegion<3>(itk::Size<3>{ { 6, 7, 8 } }));
  // Axis-aligned: the voxel axis is the patient axis.
  for (int a = 0; a < 3; ++a)
  {
    EXPECT_EQ(nsa::SliceAxisOf(image.GetPointer(), a), a);
  }
  // Stored sagittal-first, as a sagittal acquisition often is: voxel axis 0 runs along
  // patient z (inferior to superior or back), voxel axis 1 along x, voxel axis 2 along y.
  itk::Image<float, 3>::DirectionType direction;
  direction.Fill(0.0);
  direction(2, 0) = -1.0;
  direction(0, 1) = 1.0;
  direction(1, 2) = 1.0;
  image->SetDirection(direction);
  EXPECT_EQ(nsa::SliceAxisOf(image.GetPointer(), 2), 0); // axial slices
  EXPECT_EQ(nsa::SliceAxisOf(image.GetPointer(), 0), 1); // sagittal slices
  EXPECT_EQ(nsa::SliceAxisOf(image.GetPointer(), 1), 2); // coronal slices
  // A 20-degree oblique sagittal-first grid still cuts axially across voxel axis 0.
  const double c = std::cos(20.0 * itk::Math::pi / 180.0);
  const double s = std::sin(20.0 * itk::Math::pi / 180.0);
  direction.Fill(0.0);
  direction(2, 0) = c;
  direction(1, 0) = s;
  direction(2, 2) = -s;
  direction(1, 2) = c;
  direction(0, 1) = 1.0;
  image->SetDirection(direction);
  EXPECT_EQ(nsa::SliceAxisOf(image.GetPointer(), 2), 0);
  // A 2D image stored as a one-slice volume is one slice, whatever the axis.
  image->SetRegions(itk::ImageRegion<3>(itk::Size<3>{ { 6, 1, 8 } }));
  for (int a = 0; a < 3; ++a)
  {
    EXPECT_EQ(nsa::SliceAxisOf(image.GetPointer(), a), 1);
  }
  EXPECT_THROW(nsa::SliceAxisOf(image.GetPointer(), 3), nsa::ParameterError);
}

TEST(Predictor, SagittalFirstStorageGivesTheSameAxialMap)
{
  // The same anatomy stored axial-first (x, y, z) and sagittal-first (z, x, y): an axial 2D
  // model must score the same voxels the same way in both.
  nsa::Model model(SmallDescription(2, 0.125), 21);
  const itk::Size<3> size{ { 33, 30, 4 } };
  auto axial = itk::Image<float, 3>::New();
  axial->SetRegions(itk::ImageRegion<3>(size));
  axial->Allocate();
  auto sagittalFirst = itk::Image<float, 3>::New();
  sagittalFirst->SetRegions(itk::ImageRegion<3>(itk::Size<3>{ { size[2], size[0], size[1] } }));
  itk::Image<float, 3>::DirectionType direction;
  direction.Fill(0.0);
  direction(2, 0) = 1.0; // voxel axis 0: patient z
  direction(0, 1) = 1.0; // voxel axis 1: patient x
  direction(1, 2) = 1.0; // voxel axis 2: patient y
  sagittalFirst->SetDirection(direction);
  sagittalFirst->Allocate();
  for (itk::ImageRegionIteratorWithIndex<itk::Image<float, 3>> it(axial, axial->GetLargestPossibleRegion()); !it.IsAtEnd();
       ++it)
  {
    const auto & i = it.GetIndex();
    const float  value = static_cast<float>(0.5 + 0.4 * std::sin(0.3 * i[0] + 0.2 * i[1] * (1 + i[2])));
    it.Set(value);
    sagittalFirst->SetPixel({ { i[2], i[0], i[1] } }, value);
  }
  nsa::PredictionParameters parameters;
  parameters.slice_axis = 2;
  parameters.device = "cpu";
  const nsa::Predictor predictor(model, parameters);
  const auto           axialMap = predictor.Predict(axial.GetPointer());
  const auto           sagittalFirstMap = predictor.Predict(sagittalFirst.GetPointer());
  ExpectSameGeometry<3>(sagittalFirstMap, sagittalFirst);
  double largest = 0.0;
  for (itk::ImageRegionIteratorWithIndex<itk::Image<float, 3>> it(axialMap, axialMap->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    const auto & i = it.GetIndex();
    largest = std::max(largest, std::abs(static_cast<double>(it.Get() - sagittalFirstMap->GetPixel({ { i[2], i[0], i[1] } }))));
  }
  EXPECT_LT(largest, 1e-5);
}

TEST(Predictor, SlidingWindowKeepsGeometryAndMatchesSingleWindow)
{
  nsa::Model model(SmallDescription(3, 1.0 / 16), 31);
  const auto volume = MakeRampImage<3>({ { 40, 36, 30 } });
  for (std::size_t i = 0; i < 40 * 36 * 30; ++i)
  {
    volume->GetBufferPointer()[i] = volume->GetBufferPointer()[i] / 400000.0f;
  }
  nsa::PredictionParameters parameters;
  parameters.device = "cpu";
  parameters.batch_size = 4;
  // One window covering the whole (padded) volume: the network's output, cropped.
  parameters.window_size = { 64, 64, 32 };
  const auto single = nsa::Predictor(model, parameters).Predict(volume.GetPointer());
  ExpectSameGeometry<3>(single, volume);
  {
    torch::NoGradGuard noGrad;
    model.GetImpl().network->eval();
    std::vector<std::int64_t> before;
    const at::Tensor padded =
      nsa::PadSpatialCentred(nsa::ImageToTensor<3>(volume.GetPointer()), 3, 32, 0.0, before, { 32, 64, 64 });
    const at::Tensor expected =
      nsa::CropSpatial(model.GetImpl().network->forward(padded), before, { 30, 36, 40 }).contiguous();
    const auto expectedImage = nsa::TensorToImage<3>(expected, volume.GetPointer());
    for (std::size_t i = 0; i < 40 * 36 * 30; i += 11)
    {
      // Weighted average of one window: w·s / w, exact up to float rounding (1e-6 relative).
      EXPECT_NEAR(single->GetBufferPointer()[i], expectedImage->GetBufferPointer()[i], 1e-5);
    }
  }
  // Overlapping 32³ windows: geometry kept, values inside the sigmoid's range.
  parameters.window_size = { 32, 32, 32 };
  parameters.window_overlap = 0.5;
  const auto tiled = nsa::Predictor(model, parameters).Predict(volume.GetPointer());
  ExpectSameGeometry<3>(tiled, volume);
  float minimum = 1, maximum = 0;
  for (std::size_t i = 0; i < 40 * 36 * 30; ++i)
  {
    minimum = std::min(minimum, tiled->GetBufferPointer()[i]);
    maximum = std::max(maximum, tiled->GetBufferPointer()[i]);
  }
  EXPECT_GE(minimum, 0.0f);
  EXPECT_LE(maximum, 1.0f);
}

TEST(Predictor, RejectsWrongChannelCountAnd3DModelOn2DImage)
{
  nsa::Model                model(SmallDescription(3, 1.0 / 16, 2), 1);
  nsa::PredictionParameters parameters;
  parameters.device = "cpu";
  const auto volume = MakeRampImage<3>({ { 8, 8, 8 } });
  EXPECT_THROW(nsa::Predictor(model, parameters).Predict(volume.GetPointer()), nsa::InputError);
  const auto image = MakeRampImage<2>({ { 8, 8 } });
  const std::vector<const itk::Image<float, 2> *> channels{ image.GetPointer(), image.GetPointer() };
  EXPECT_THROW(nsa::Predictor(model, parameters).Predict(channels), nsa::InputError);
}

TEST(CaseScore, MeanPercentileTopK)
{
  nsa::PredictionParameters parameters;
  parameters.score_percentile = 75.0;
  parameters.top_k_fraction = 0.2; // ceil(0.2 · 10) = 2 values
  std::vector<float> values{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  auto               scores = nsa::ComputeCaseScores(values, parameters);
  EXPECT_DOUBLE_EQ(scores.mean, 4.5);
  EXPECT_DOUBLE_EQ(scores.percentile, 6.75); // position 0.75 · 9 = 6.75 between 6 and 7
  EXPECT_DOUBLE_EQ(scores.top_k_mean, 8.5);
  EXPECT_DOUBLE_EQ(scores.selected, 4.5); // "mean" is the default (the paper)
  parameters.case_score = nsa::CaseScore::TopKMean;
  EXPECT_DOUBLE_EQ(nsa::ComputeCaseScores(values, parameters).selected, 8.5);
  EXPECT_THROW(nsa::ComputeCaseScores(std::vector<float>{}, parameters), nsa::InputError);

  const auto map = MakeRampImage<2>({ { 2, 2 } }); // values 0, 1, 100, 101
  auto       mask = itk::Image<unsigned char, 2>::New();
  mask->SetRegions(map->GetLargestPossibleRegion());
  mask->Allocate();
  mask->FillBuffer(0);
  mask->GetBufferPointer()[3] = 1;
  mask->GetBufferPointer()[0] = 1;
  EXPECT_DOUBLE_EQ(nsa::ComputeCaseScores(map.GetPointer(), nsa::PredictionParameters(), mask.GetPointer()).mean,
                   50.5);
}

// ---------------------------------------------------------------------------------------
// From files: study lists and whole-study prediction

TEST(StudyPipeline, ListsFoldersAndListFilesAndPredictsWithTheStudysGeometry)
{
  const std::string folder = OutputPath("studies");
  std::system(("rm -rf '" + folder + "' && mkdir -p '" + folder + "/series1'").c_str());
  const auto volume = MakeRampImage<3>({ { 20, 24, 6 } });
  nsa::WriteImage(volume.GetPointer(), folder + "/b.nii.gz");
  nsa::WriteImage(volume.GetPointer(), folder + "/a.nrrd");
  std::ofstream(folder + "/notes.txt") << "not an image";
  const auto listed = nsa::ListStudies(folder);
  ASSERT_EQ(listed.size(), 3u); // a.nrrd, b.nii.gz and the sub-folder (a DICOM series)
  EXPECT_EQ(listed[0].name, "a");
  EXPECT_EQ(listed[1].name, "b");
  EXPECT_EQ(listed[2].name, "series1");

  std::ofstream(folder + "/list.txt") << "# training set\nb.nii.gz\n\n" << folder << "/a.nrrd\n";
  const auto fromList = nsa::ListStudies(folder + "/list.txt");
  ASSERT_EQ(fromList.size(), 2u);
  EXPECT_EQ(fromList[0].path, folder + "/b.nii.gz");
  std::ofstream(folder + "/bad.txt") << "missing.nii.gz\n";
  EXPECT_THROW(nsa::ListStudies(folder + "/bad.txt"), nsa::InputError);
  EXPECT_THROW(nsa::ListStudies(folder + "/none"), nsa::InputError);

  nsa::ModelDescription description = SmallDescription(2, 0.125);
  description.normalisation.mode = nsa::NormalisationMode::MinMax;
  const nsa::Model                model(description, 2);
  nsa::PredictionParameters       parameters;
  parameters.device = "cpu";
  const nsa::Predictor            predictor(model, parameters);
  const auto                      prediction = nsa::PredictStudy(predictor, model, folder + "/b.nii.gz");
  ExpectSameGeometry<3>(prediction.map, prediction.study.image);
  EXPECT_GE(prediction.scores.mean, 0.0);
  EXPECT_LE(prediction.scores.mean, 1.0);
  // The map of the file equals the map of the normalised image in memory.
  std::vector<float> values(prediction.study.image->GetBufferPointer(),
                            prediction.study.image->GetBufferPointer() + 20 * 24 * 6);
  const auto range = std::minmax_element(values.begin(), values.end());
  for (auto & value : values)
  {
    value = (value - *range.first) / (*range.second - *range.first);
  }
  std::copy(values.begin(), values.end(), volume->GetBufferPointer());
  const auto direct = predictor.Predict(volume.GetPointer());
  for (std::size_t i = 0; i < values.size(); i += 5)
  {
    // minmax normalisation in float here and in the IO module: equal up to rounding.
    EXPECT_NEAR(direct->GetBufferPointer()[i], prediction.map->GetBufferPointer()[i], 1e-4);
  }
}
