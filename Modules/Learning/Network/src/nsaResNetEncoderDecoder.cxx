#include "nsaResNetEncoderDecoder.h"

#include "nsaProcessGroup.h"

#include "nsaError.h"
#include "nsaJsonText.h"
#include "nsaStateDictReader.h"

#include <torch/nn/init.h>

#include <cmath>
#include <map>
#include <sstream>

namespace nsa
{

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
MakeConvTranspose(int in, int out, int kernel, int stride, int padding, int outputPadding, bool bias = false)
{
  using Options = typename NetworkTraits<VDimension>::ConvTransposeOptions;
  return typename NetworkTraits<VDimension>::ConvTranspose(
    Options(in, out, kernel).stride(stride).padding(padding).output_padding(outputPadding).bias(bias));
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
  switch (m_Configuration.output_activation)
  {
    case OutputActivation::Sigmoid:
      return at::sigmoid(logits);
    case OutputActivation::ReLU:
      return at::relu(logits);
    case OutputActivation::Identity:
      break;
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
    if (input.size(axis) <= 0 || input.size(axis) % NetworkParameters::SizeDivisor != 0)
    {
      throw InputError("network input: spatial size " + std::to_string(input.size(axis)) + " along tensor axis " +
                       std::to_string(axis) + " is not a positive multiple of " +
                       std::to_string(NetworkParameters::SizeDivisor) + " (pad or crop the image)");
    }
  }
}

// ---------------------------------------------------------------------------------------
template <unsigned int VDimension>
BasicBlockImpl<VDimension>::BasicBlockImpl(int inPlanes, int planes, int stride)
{
  m_Conv1 = this->register_module("conv1", MakeConv<VDimension>(inPlanes, planes, 3, stride, 1));
  m_BatchNorm1 = this->register_module("bn1", MakeBatchNorm<VDimension>(planes));
  m_Conv2 = this->register_module("conv2", MakeConv<VDimension>(planes, planes, 3, 1, 1));
  m_BatchNorm2 = this->register_module("bn2", MakeBatchNorm<VDimension>(planes));
  if (stride != 1 || inPlanes != planes)
  {
    m_ShortcutConv = MakeConv<VDimension>(inPlanes, planes, 1, stride, 0);
    m_ShortcutBatchNorm = MakeBatchNorm<VDimension>(planes);
    this->register_module("downsample", torch::nn::Sequential(m_ShortcutConv, m_ShortcutBatchNorm));
  }
}

template <unsigned int VDimension>
at::Tensor
BasicBlockImpl<VDimension>::forward(const at::Tensor & x)
{
  at::Tensor out = ReluInPlace(NormaliseBatch(m_BatchNorm1, m_Conv1->forward(x)));
  out = NormaliseBatch(m_BatchNorm2, m_Conv2->forward(out));
  const at::Tensor identity = m_ShortcutConv ? NormaliseBatch(m_ShortcutBatchNorm, m_ShortcutConv->forward(x)) : x;
  return ReluInPlace(out + identity);
}

template <unsigned int VDimension>
TransposeBasicBlockImpl<VDimension>::TransposeBasicBlockImpl(int inPlanes, int planes, int stride, bool finalRelu)
  : m_FinalRelu(finalRelu)
{
  // The paper's transposed 3×3 always has output padding 1; with stride 2 it doubles the size.
  m_Conv1 = this->register_module("conv1", MakeConvTranspose<VDimension>(inPlanes, planes, 3, stride, 1, 1));
  m_BatchNorm1 = this->register_module("bn1", MakeBatchNorm<VDimension>(planes));
  m_Conv2 = this->register_module("conv2", MakeConv<VDimension>(planes, planes, 3, 1, 1));
  m_BatchNorm2 = this->register_module("bn2", MakeBatchNorm<VDimension>(planes));
  if (stride != 1 || inPlanes != planes)
  {
    m_ShortcutConv = MakeConvTranspose<VDimension>(inPlanes, planes, 1, stride, 0, stride - 1);
    m_ShortcutBatchNorm = MakeBatchNorm<VDimension>(planes);
    this->register_module("upsample", torch::nn::Sequential(m_ShortcutConv, m_ShortcutBatchNorm));
  }
}

template <unsigned int VDimension>
at::Tensor
TransposeBasicBlockImpl<VDimension>::forward(const at::Tensor & x)
{
  at::Tensor out = ReluInPlace(NormaliseBatch(m_BatchNorm1, m_Conv1->forward(x)));
  out = NormaliseBatch(m_BatchNorm2, m_Conv2->forward(out));
  const at::Tensor identity = m_ShortcutConv ? NormaliseBatch(m_ShortcutBatchNorm, m_ShortcutConv->forward(x)) : x;
  return m_FinalRelu ? ReluInPlace(out + identity) : out + identity;
}

// ---------------------------------------------------------------------------------------
template <unsigned int VDimension>
ResNetEncoderDecoder<VDimension>::ResNetEncoderDecoder(const NetworkParameters & configuration)
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

  m_Nin = this->register_module(
    "nin",
    torch::nn::Sequential(MakeConv<VDimension>(c(512), c(256), 1, 1, 0), torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                          MakeConv<VDimension>(c(256), c(128), 1, 1, 0), torch::nn::ReLU(torch::nn::ReLUOptions(true))));

  inPlanes = c(128);
  const int decoderPlanes[3] = { 64, 32, 16 };
  for (int i = 0; i < 3; ++i)
  {
    // network.final_relu false: the last block hands its sum to convtranspose1 before the ReLU,
    // so the logits can take either sign from every feature.
    m_UpLayers[i] = this->MakeLayer("uplayer" + std::to_string(i + 1), inPlanes, c(decoderPlanes[i]), 1, 2, true,
                                    i < 2 || configuration.final_relu);
  }
  m_ConvTranspose1 =
    this->register_module("convtranspose1", MakeConvTranspose<VDimension>(c(16), 1, 7, 2, 3, 1, configuration.output_bias));

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
torch::nn::Sequential
ResNetEncoderDecoder<VDimension>::MakeLayer(const std::string & name,
                                            int &               inPlanes,
                                            int                 planes,
                                            int                 blocks,
                                            int                 stride,
                                            bool                transpose,
                                            bool                finalRelu)
{
  torch::nn::Sequential layer;
  for (int i = 0; i < blocks; ++i)
  {
    const int blockStride = i == 0 ? stride : 1;
    if (transpose)
    {
      layer->push_back(TransposeBasicBlock<VDimension>(inPlanes, planes, blockStride, finalRelu || i + 1 < blocks));
    }
    else
    {
      layer->push_back(BasicBlock<VDimension>(inPlanes, planes, blockStride));
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
  at::Tensor x = ReluInPlace(NormaliseBatch(m_BatchNorm1, m_Conv1->forward(input)));
  x = Traits::MaxPool(x);
  for (auto & layer : m_Layers)
  {
    x = layer->forward(x);
  }
  x = m_Nin->forward(x);
  for (auto & layer : m_UpLayers)
  {
    x = layer->forward(x);
  }
  x = Traits::Upsample(x);
  return m_ConvTranspose1->forward(x);
}

template class BasicBlockImpl<2>;
template class BasicBlockImpl<3>;
template class TransposeBasicBlockImpl<2>;
template class TransposeBasicBlockImpl<3>;
template class ResNetEncoderDecoder<2>;
template class ResNetEncoderDecoder<3>;

std::shared_ptr<EncoderDecoder>
MakeNetwork(const NetworkParameters & configuration)
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
namespace
{

std::string
ShapeText(at::IntArrayRef sizes)
{
  std::ostringstream text;
  text << sizes;
  return text.str();
}

/** Where the highest element of a strided view lies, in elements from the storage's start;
 * false when an extent overflows or a size or stride is negative. */
bool
ViewEnd(const at::Tensor & tensor, std::uint64_t & end)
{
  std::int64_t last = tensor.storage_offset();
  if (last < 0)
  {
    return false;
  }
  for (std::int64_t d = 0; d < tensor.dim(); ++d)
  {
    const std::int64_t size = tensor.size(d);
    const std::int64_t stride = tensor.stride(d);
    if (size < 0 || stride < 0)
    {
      return false;
    }
    if (size == 0)
    {
      end = 0;
      return true; // an empty view reads nothing
    }
    std::int64_t reach = 0;
    if (__builtin_mul_overflow(size - 1, stride, &reach) || __builtin_add_overflow(last, reach, &last))
    {
      return false;
    }
  }
  end = static_cast<std::uint64_t>(last) + 1;
  return true;
}

} // namespace

std::map<std::string, TensorSpec>
ExpectedTensors(const NetworkParameters & configuration)
{
  const auto c = [&configuration](int channels) { return static_cast<std::int64_t>(configuration.Channels(channels)); };
  const int  dimension = configuration.dimension;
  std::map<std::string, TensorSpec> tensors;
  // Conv: [out, in, k...]; ConvTranspose: [in, out, k...] (groups 1, no bias).
  const auto kernel = [&](std::int64_t first, std::int64_t second, std::int64_t size) {
    TensorSpec spec;
    spec.sizes = { first, second };
    for (int d = 0; d < dimension; ++d)
    {
      spec.sizes.push_back(size);
    }
    return spec;
  };
  const auto batchNorm = [&](const std::string & name, std::int64_t features) {
    for (const char * key : { ".weight", ".bias", ".running_mean", ".running_var" })
    {
      tensors[name + key] = TensorSpec{ { features }, at::kFloat };
    }
    tensors[name + ".num_batches_tracked"] = TensorSpec{ {}, at::kLong };
  };
  const auto block = [&](const std::string & name, std::int64_t in, std::int64_t planes, int stride, bool transpose) {
    tensors[name + ".conv1.weight"] = transpose ? kernel(in, planes, 3) : kernel(planes, in, 3);
    batchNorm(name + ".bn1", planes);
    tensors[name + ".conv2.weight"] = kernel(planes, planes, 3);
    batchNorm(name + ".bn2", planes);
    if (stride != 1 || in != planes)
    {
      const std::string shortcut = name + (transpose ? ".upsample" : ".downsample");
      tensors[shortcut + ".0.weight"] = transpose ? kernel(in, planes, 1) : kernel(planes, in, 1);
      batchNorm(shortcut + ".1", planes);
    }
  };

  std::int64_t in = c(64);
  tensors["conv1.weight"] = kernel(in, configuration.input_channels, 7);
  batchNorm("bn1", in);
  const int encoderPlanes[4] = { 64, 128, 256, 512 };
  for (int i = 0; i < 4; ++i)
  {
    for (int b = 0; b < 2; ++b)
    {
      block("layer" + std::to_string(i + 1) + "." + std::to_string(b), in, c(encoderPlanes[i]),
            b == 0 && i > 0 ? 2 : 1, false);
      in = c(encoderPlanes[i]);
    }
  }
  tensors["nin.0.weight"] = kernel(c(256), c(512), 1);
  tensors["nin.2.weight"] = kernel(c(128), c(256), 1);
  in = c(128);
  const int decoderPlanes[3] = { 64, 32, 16 };
  for (int i = 0; i < 3; ++i)
  {
    block("uplayer" + std::to_string(i + 1) + ".0", in, c(decoderPlanes[i]), 2, true);
    in = c(decoderPlanes[i]);
  }
  tensors["convtranspose1.weight"] = kernel(c(16), 1, 7);
  if (configuration.output_bias)
  {
    tensors["convtranspose1.bias"] = TensorSpec{ { 1 }, at::kFloat };
  }
  return tensors;
}

std::map<std::string, at::Tensor>
CheckNamedTensors(const std::map<std::string, TensorSpec> &               expected,
                  const std::vector<std::pair<std::string, at::Tensor>> & tensors,
                  const std::string &                                     context,
                  bool                                                    convertFloating)
{
  std::map<std::string, at::Tensor> byName;
  for (const auto & entry : tensors)
  {
    std::string name = entry.first;
    if (name.rfind("module.", 0) == 0)
    {
      name = name.substr(7);
    }
    const std::string shown = "tensor '" + ShortenForMessage(name) + "'";
    if (expected.count(name) == 0)
    {
      throw InputError(context + ": unexpected " + shown +
                       " (not a parameter or buffer of the configured network; wrong architecture, width or "
                       "dimension?)");
    }
    if (!byName.emplace(name, entry.second).second)
    {
      throw InputError(context + ": " + shown + " appears twice");
    }
  }
  for (const auto & [name, spec] : expected)
  {
    auto found = byName.find(name);
    if (found == byName.end())
    {
      throw InputError(context + ": tensor '" + name + "' is missing (the network expects shape " +
                       ShapeText(spec.sizes) + ")");
    }
    const at::Tensor & tensor = found->second;
    if (!tensor.defined() || tensor.sizes() != at::IntArrayRef(spec.sizes))
    {
      throw InputError(context + ": tensor '" + name + "' has shape " +
                       (tensor.defined() ? ShapeText(tensor.sizes()) : std::string("(undefined)")) +
                       ", the network expects " + ShapeText(spec.sizes));
    }
    const bool typeOk = tensor.scalar_type() == spec.type ||
                        (convertFloating && at::isFloatingType(spec.type) && at::isFloatingType(tensor.scalar_type())) ||
                        (convertFloating && spec.type == at::kLong && at::isIntegralType(tensor.scalar_type(), false));
    if (!typeOk)
    {
      throw InputError(context + ": tensor '" + name + "' holds " + std::string(at::toString(tensor.scalar_type())) +
                       " values, the network expects " + at::toString(spec.type));
    }
    std::uint64_t end = 0;
    if (!ViewEnd(tensor, end) || !tensor.storage() ||
        end > tensor.storage().nbytes() / static_cast<std::uint64_t>(tensor.element_size()))
    {
      throw InputError(context + ": tensor '" + name + "' reaches outside its storage (offset " +
                       std::to_string(tensor.storage_offset()) + ", shape " + ShapeText(tensor.sizes()) +
                       ", storage of " +
                       std::to_string(tensor.storage() ? tensor.storage().nbytes() / tensor.element_size() : 0) +
                       " elements)");
    }
  }
  return byName;
}

void
LoadNamedTensors(EncoderDecoder &                                        network,
                 const std::vector<std::pair<std::string, at::Tensor>> & tensors,
                 const std::string &                                     context,
                 bool                                                    convertFloating)
{
  std::map<std::string, at::Tensor> targets;
  std::map<std::string, TensorSpec> expected;
  for (const auto & item : network.named_parameters(/*recurse=*/true))
  {
    targets[item.key()] = item.value();
  }
  for (const auto & item : network.named_buffers(/*recurse=*/true))
  {
    targets[item.key()] = item.value();
  }
  for (const auto & [name, target] : targets)
  {
    expected[name] = TensorSpec{ target.sizes().vec(), target.scalar_type() };
  }
  const std::map<std::string, at::Tensor> sources = CheckNamedTensors(expected, tensors, context, convertFloating);
  torch::NoGradGuard noGrad;
  for (auto & [name, target] : targets)
  {
    target.copy_(sources.at(name).to(target.device(), target.scalar_type()));
  }
}

void
ImportStateDict(EncoderDecoder & network, const std::string & path)
{
  LoadNamedTensors(network, ReadStateDict(path), "state dict '" + path + "'");
}

} // namespace nsa
