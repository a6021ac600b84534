#include "nsaResNetEncoderDecoder.h"

#include "nsaError.h"
#include "nsaStateDictReader.h"

#include <torch/nn/init.h>

#include <cmath>
#include <map>
#include <sstream>

namespace nsa
{

int
NetworkConfiguration::Channels(int paperChannels) const
{
  return std::max(1, static_cast<int>(std::lround(paperChannels * width_multiplier)));
}

at::Tensor
NetworkTraits<2>::MaxPool(const at::Tensor & x)
{
  return at::max_pool2d(x, { 3, 3 }, { 2, 2 }, { 1, 1 });
}

at::Tensor
NetworkTraits<2>::Upsample(const at::Tensor & x)
{
  return at::upsample_bilinear2d(x, { 2 * x.size(2), 2 * x.size(3) }, /*align_corners=*/true);
}

at::Tensor
NetworkTraits<3>::MaxPool(const at::Tensor & x)
{
  return at::max_pool3d(x, { 3, 3, 3 }, { 2, 2, 2 }, { 1, 1, 1 });
}

at::Tensor
NetworkTraits<3>::Upsample(const at::Tensor & x)
{
  return at::upsample_trilinear3d(x, { 2 * x.size(2), 2 * x.size(3), 2 * x.size(4) }, /*align_corners=*/true);
}

namespace
{

at::Tensor
ReluInPlace(at::Tensor x)
{
  return x.relu_();
}

template <unsigned int VDimension>
typename NetworkTraits<VDimension>::Conv
MakeConv(int in, int out, int kernel, int stride, int padding)
{
  using Options = typename NetworkTraits<VDimension>::ConvOptions;
  return typename NetworkTraits<VDimension>::Conv(
    Options(in, out, kernel).stride(stride).padding(torch::ExpandingArray<VDimension>(padding)).bias(false));
}

template <unsigned int VDimension>
typename NetworkTraits<VDimension>::ConvTranspose
MakeConvTranspose(int in, int out, int kernel, int stride, int padding, int outputPadding)
{
  using Options = typename NetworkTraits<VDimension>::ConvTransposeOptions;
  return typename NetworkTraits<VDimension>::ConvTranspose(
    Options(in, out, kernel).stride(stride).padding(padding).output_padding(outputPadding).bias(false));
}

template <unsigned int VDimension>
typename NetworkTraits<VDimension>::BatchNorm
MakeBatchNorm(int features)
{
  // PyTorch's defaults: eps 1e-5, momentum 0.1, affine, running statistics tracked.
  return typename NetworkTraits<VDimension>::BatchNorm(torch::nn::BatchNormOptions(features));
}

} // namespace

// ---------------------------------------------------------------------------------------
at::Tensor
EncoderDecoder::forward(const at::Tensor & input)
{
  return this->Activate(this->ForwardLogits(input));
}

at::Tensor
EncoderDecoder::Activate(const at::Tensor & logits) const
{
  const std::string & activation = m_Configuration.output_activation;
  if (activation == "sigmoid")
  {
    return at::sigmoid(logits);
  }
  if (activation == "relu")
  {
    return at::relu(logits);
  }
  return logits;
}

std::int64_t
EncoderDecoder::ParameterCount() const
{
  std::int64_t count = 0;
  for (const auto & parameter : this->parameters())
  {
    count += parameter.numel();
  }
  return count;
}

void
EncoderDecoder::CheckInput(const at::Tensor & input) const
{
  const auto dimension = static_cast<std::int64_t>(m_Configuration.dimension);
  if (input.dim() != dimension + 2)
  {
    throw InputError("network input: expected a " + std::to_string(dimension + 2) + "-dimensional tensor [N, C" +
                     (dimension == 2 ? ", H, W]" : ", D, H, W]") + ", got " + std::to_string(input.dim()) +
                     " dimensions");
  }
  if (input.size(1) != m_Configuration.input_channels)
  {
    throw InputError("network input: the model expects " + std::to_string(m_Configuration.input_channels) +
                     " channel(s), got " + std::to_string(input.size(1)));
  }
  for (std::int64_t axis = 2; axis < input.dim(); ++axis)
  {
    if (input.size(axis) <= 0 || input.size(axis) % NetworkConfiguration::SizeDivisor != 0)
    {
      throw InputError("network input: spatial size " + std::to_string(input.size(axis)) + " along tensor axis " +
                       std::to_string(axis) + " is not a positive multiple of " +
                       std::to_string(NetworkConfiguration::SizeDivisor) + " (pad or crop the image)");
    }
  }
}

// ---------------------------------------------------------------------------------------
template <unsigned int VDimension>
BasicBlock<VDimension>::BasicBlock(int inPlanes, int planes, int stride)
{
  m_Conv1 = this->register_module("conv1", MakeConv<VDimension>(inPlanes, planes, 3, stride, 1));
  m_BatchNorm1 = this->register_module("bn1", MakeBatchNorm<VDimension>(planes));
  m_Conv2 = this->register_module("conv2", MakeConv<VDimension>(planes, planes, 3, 1, 1));
  m_BatchNorm2 = this->register_module("bn2", MakeBatchNorm<VDimension>(planes));
  if (stride != 1 || inPlanes != planes)
  {
    auto shortcut = std::make_shared<torch::nn::Module>("Sequential");
    m_ShortcutConv = shortcut->register_module("0", MakeConv<VDimension>(inPlanes, planes, 1, stride, 0));
    m_ShortcutBatchNorm = shortcut->register_module("1", MakeBatchNorm<VDimension>(planes));
    this->register_module("downsample", shortcut);
  }
}

template <unsigned int VDimension>
at::Tensor
BasicBlock<VDimension>::Forward(const at::Tensor & x)
{
  at::Tensor out = ReluInPlace(m_BatchNorm1->forward(m_Conv1->forward(x)));
  out = m_BatchNorm2->forward(m_Conv2->forward(out));
  const at::Tensor identity = m_ShortcutConv ? m_ShortcutBatchNorm->forward(m_ShortcutConv->forward(x)) : x;
  return ReluInPlace(out + identity);
}

template <unsigned int VDimension>
TransposeBasicBlock<VDimension>::TransposeBasicBlock(int inPlanes, int planes, int stride)
{
  // The paper's transposed 3×3 always has output padding 1; with stride 2 it doubles the size.
  m_Conv1 = this->register_module("conv1", MakeConvTranspose<VDimension>(inPlanes, planes, 3, stride, 1, 1));
  m_BatchNorm1 = this->register_module("bn1", MakeBatchNorm<VDimension>(planes));
  m_Conv2 = this->register_module("conv2", MakeConv<VDimension>(planes, planes, 3, 1, 1));
  m_BatchNorm2 = this->register_module("bn2", MakeBatchNorm<VDimension>(planes));
  if (stride != 1 || inPlanes != planes)
  {
    auto shortcut = std::make_shared<torch::nn::Module>("Sequential");
    m_ShortcutConv =
      shortcut->register_module("0", MakeConvTranspose<VDimension>(inPlanes, planes, 1, stride, 0, stride - 1));
    m_ShortcutBatchNorm = shortcut->register_module("1", MakeBatchNorm<VDimension>(planes));
    this->register_module("upsample", shortcut);
  }
}

template <unsigned int VDimension>
at::Tensor
TransposeBasicBlock<VDimension>::Forward(const at::Tensor & x)
{
  at::Tensor out = ReluInPlace(m_BatchNorm1->forward(m_Conv1->forward(x)));
  out = m_BatchNorm2->forward(m_Conv2->forward(out));
  const at::Tensor identity = m_ShortcutConv ? m_ShortcutBatchNorm->forward(m_ShortcutConv->forward(x)) : x;
  return ReluInPlace(out + identity);
}

void
BlockSequence::Append(std::shared_ptr<ResidualBlock> block)
{
  this->register_module(std::to_string(m_Blocks.size()), block);
  m_Blocks.push_back(std::move(block));
}

at::Tensor
BlockSequence::Forward(const at::Tensor & x)
{
  at::Tensor out = x;
  for (const auto & block : m_Blocks)
  {
    out = block->Forward(out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
template <unsigned int VDimension>
ResNetEncoderDecoder<VDimension>::ResNetEncoderDecoder(const NetworkConfiguration & configuration)
  : EncoderDecoder(configuration)
{
  if (configuration.dimension != static_cast<int>(VDimension))
  {
    throw ParameterError("network: configuration dimension " + std::to_string(configuration.dimension) +
                         " does not match the " + std::to_string(VDimension) + "D network");
  }
  const auto c = [&configuration](int channels) { return configuration.Channels(channels); };

  int inPlanes = c(64);
  m_Conv1 = this->register_module("conv1", MakeConv<VDimension>(configuration.input_channels, inPlanes, 7, 2, 3));
  m_BatchNorm1 = this->register_module("bn1", MakeBatchNorm<VDimension>(inPlanes));
  const int encoderPlanes[4] = { 64, 128, 256, 512 };
  for (int i = 0; i < 4; ++i)
  {
    m_Layers[i] =
      this->MakeLayer("layer" + std::to_string(i + 1), inPlanes, c(encoderPlanes[i]), 2, i == 0 ? 1 : 2, false);
  }

  m_Nin = std::make_shared<torch::nn::Module>("Sequential");
  m_Nin0 = m_Nin->register_module("0", MakeConv<VDimension>(c(512), c(256), 1, 1, 0));
  m_Nin2 = m_Nin->register_module("2", MakeConv<VDimension>(c(256), c(128), 1, 1, 0));
  this->register_module("nin", m_Nin);

  inPlanes = c(128);
  const int decoderPlanes[3] = { 64, 32, 16 };
  for (int i = 0; i < 3; ++i)
  {
    m_UpLayers[i] = this->MakeLayer("uplayer" + std::to_string(i + 1), inPlanes, c(decoderPlanes[i]), 1, 2, true);
  }
  m_ConvTranspose1 =
    this->register_module("convtranspose1", MakeConvTranspose<VDimension>(c(16), 1, 7, 2, 3, 1));

  // The paper's initialisation: Kaiming normal (fan-out, ReLU) for convolutions only
  // (isinstance(m, nn.Conv2d) is false for transposed convolutions), BN weight 1, bias 0.
  torch::NoGradGuard noGrad;
  for (auto & module : this->modules(/*include_self=*/false))
  {
    if (auto * conv = module->template as<typename Traits::Conv>())
    {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
    else if (auto * norm = module->template as<typename Traits::BatchNorm>())
    {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

template <unsigned int VDimension>
std::shared_ptr<BlockSequence>
ResNetEncoderDecoder<VDimension>::MakeLayer(const std::string & name,
                                            int &               inPlanes,
                                            int                 planes,
                                            int                 blocks,
                                            int                 stride,
                                            bool                transpose)
{
  auto layer = std::make_shared<BlockSequence>();
  for (int i = 0; i < blocks; ++i)
  {
    const int blockStride = i == 0 ? stride : 1;
    if (transpose)
    {
      layer->Append(std::make_shared<TransposeBasicBlock<VDimension>>(inPlanes, planes, blockStride));
    }
    else
    {
      layer->Append(std::make_shared<BasicBlock<VDimension>>(inPlanes, planes, blockStride));
    }
    inPlanes = planes;
  }
  return this->register_module(name, layer);
}

template <unsigned int VDimension>
at::Tensor
ResNetEncoderDecoder<VDimension>::ForwardLogits(const at::Tensor & input)
{
  this->CheckInput(input);
  at::Tensor x = ReluInPlace(m_BatchNorm1->forward(m_Conv1->forward(input)));
  x = Traits::MaxPool(x);
  for (auto & layer : m_Layers)
  {
    x = layer->Forward(x);
  }
  x = ReluInPlace(m_Nin0->forward(x));
  x = ReluInPlace(m_Nin2->forward(x));
  for (auto & layer : m_UpLayers)
  {
    x = layer->Forward(x);
  }
  x = Traits::Upsample(x);
  return m_ConvTranspose1->forward(x);
}

template class BasicBlock<2>;
template class BasicBlock<3>;
template class TransposeBasicBlock<2>;
template class TransposeBasicBlock<3>;
template class ResNetEncoderDecoder<2>;
template class ResNetEncoderDecoder<3>;

std::shared_ptr<EncoderDecoder>
MakeNetwork(const NetworkConfiguration & configuration)
{
  configuration.Validate();
  if (configuration.dimension == 2)
  {
    return std::make_shared<ResNetEncoderDecoder<2>>(configuration);
  }
  if (configuration.dimension == 3)
  {
    return std::make_shared<ResNetEncoderDecoder<3>>(configuration);
  }
  throw ParameterError("network.dimension: " + std::to_string(configuration.dimension) + " is not 2 or 3");
}

// ---------------------------------------------------------------------------------------
void
LoadNamedTensors(EncoderDecoder &                                        network,
                 const std::vector<std::pair<std::string, at::Tensor>> & tensors,
                 const std::string &                                     context)
{
  std::map<std::string, at::Tensor> byName;
  for (const auto & entry : tensors)
  {
    std::string name = entry.first;
    if (name.rfind("module.", 0) == 0)
    {
      name = name.substr(7);
    }
    byName[name] = entry.second;
  }

  std::map<std::string, at::Tensor> targets;
  for (const auto & item : network.named_parameters(/*recurse=*/true))
  {
    targets[item.key()] = item.value();
  }
  for (const auto & item : network.named_buffers(/*recurse=*/true))
  {
    targets[item.key()] = item.value();
  }
  for (const auto & entry : byName)
  {
    if (targets.count(entry.first) == 0)
    {
      throw InputError(context + ": unexpected tensor '" + entry.first +
                       "' (not a parameter or buffer of the configured network; wrong architecture, width or "
                       "dimension?)");
    }
  }
  torch::NoGradGuard noGrad;
  for (auto & target : targets)
  {
    auto found = byName.find(target.first);
    if (found == byName.end())
    {
      throw InputError(context + ": tensor '" + target.first + "' is missing");
    }
    const at::Tensor & source = found->second;
    if (source.sizes() != target.second.sizes())
    {
      std::ostringstream message;
      message << context << ": tensor '" << target.first << "' has shape " << source.sizes() << ", the network expects "
              << target.second.sizes();
      throw InputError(message.str());
    }
    target.second.copy_(source.to(target.second.device(), target.second.scalar_type()));
  }
}

void
ImportStateDict(EncoderDecoder & network, const std::string & path)
{
  LoadNamedTensors(network, ReadStateDict(path), "state dict '" + path + "'");
}

} // namespace nsa
