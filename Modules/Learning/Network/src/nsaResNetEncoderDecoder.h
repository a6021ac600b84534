#ifndef nsaResNetEncoderDecoder_h
#define nsaResNetEncoderDecoder_h

// Internal header of the Learning module (includes LibTorch): only src/ and test/ include it.

#include "nsaParameters.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nsa
{

/** \brief The LibTorch layer types of a spatial dimension, the way ITK code is templated on
 * ImageDimension. Tensor layouts: 2D [N, C, H, W], 3D [N, C, D, H, W]. */
template <unsigned int VDimension>
struct NetworkTraits;

template <>
struct NetworkTraits<2>
{
  using Conv = torch::nn::Conv2d;
  using ConvOptions = torch::nn::Conv2dOptions;
  using ConvTranspose = torch::nn::ConvTranspose2d;
  using ConvTransposeOptions = torch::nn::ConvTranspose2dOptions;
  using BatchNorm = torch::nn::BatchNorm2d;

  /** 3×3 max-pool, stride 2, padding 1 (the ResNet stem). */
  static at::Tensor
  MaxPool(const at::Tensor & x);
  /** Bilinear ×2 with align_corners = true (PyTorch's UpsamplingBilinear2d). */
  static at::Tensor
  Upsample(const at::Tensor & x);
};

template <>
struct NetworkTraits<3>
{
  using Conv = torch::nn::Conv3d;
  using ConvOptions = torch::nn::Conv3dOptions;
  using ConvTranspose = torch::nn::ConvTranspose3d;
  using ConvTransposeOptions = torch::nn::ConvTranspose3dOptions;
  using BatchNorm = torch::nn::BatchNorm3d;

  static at::Tensor
  MaxPool(const at::Tensor & x);
  /** Trilinear ×2 with align_corners = true. */
  static at::Tensor
  Upsample(const at::Tensor & x);
};

/** \class EncoderDecoder
 * \brief Dimension-independent face of the networks: what the trainer and the predictor use.
 *
 * Input [N, C, H, W] (2D) or [N, C, D, H, W] (3D), every spatial size a multiple of
 * NetworkParameters::SizeDivisor; output [N, 1, ...] of the same spatial size.
 */
class EncoderDecoder : public torch::nn::Module
{
public:
  explicit EncoderDecoder(const NetworkParameters & configuration)
    : torch::nn::Module("ResNetEncoderDecoder")
    , m_Configuration(configuration)
  {}

  /** The output before the output activation (logits for a sigmoid model). */
  virtual at::Tensor
  ForwardLogits(const at::Tensor & input) = 0;

  /** The output after the output activation (scores). */
  at::Tensor
  forward(const at::Tensor & input);

  /** Applies the output activation to ForwardLogits' output. */
  at::Tensor
  Activate(const at::Tensor & logits) const;

  const NetworkParameters &
  GetConfiguration() const
  {
    return m_Configuration;
  }

  /** Number of trainable parameters (as PyTorch's sum(p.numel() for p in parameters())). */
  std::int64_t
  ParameterCount() const;

protected:
  /** Throws nsa::InputError unless the input is [N, input_channels, spatial...] with every
   * spatial size a positive multiple of SizeDivisor. */
  void
  CheckInput(const at::Tensor & input) const;

private:
  NetworkParameters m_Configuration;
};

/** \class BasicBlockImpl
 * \brief ResNet basic block: conv3×3(stride)–BN–ReLU–conv3×3–BN, plus the identity or a
 * 1×1 conv–BN "downsample" shortcut, then ReLU (He et al., CVPR 2016). Parameter names
 * conv1, bn1, conv2, bn2, downsample.0, downsample.1 as in torchvision. Used through its
 * holder BasicBlock<VDimension> (LibTorch's TORCH_MODULE idiom, written out because the
 * macro takes no template). */
template <unsigned int VDimension>
class BasicBlockImpl : public torch::nn::Module
{
public:
  using Traits = NetworkTraits<VDimension>;
  BasicBlockImpl(int inPlanes, int planes, int stride);
  at::Tensor
  forward(const at::Tensor & x);

private:
  typename Traits::Conv      m_Conv1{ nullptr };
  typename Traits::BatchNorm m_BatchNorm1{ nullptr };
  typename Traits::Conv      m_Conv2{ nullptr };
  typename Traits::BatchNorm m_BatchNorm2{ nullptr };
  /** The shortcut's conv and BN, registered as the Sequential "downsample"; called one by
   * one because the BN may be synchronised across processes (NormaliseBatch). */
  typename Traits::Conv      m_ShortcutConv{ nullptr };
  typename Traits::BatchNorm m_ShortcutBatchNorm{ nullptr };
};

template <unsigned int VDimension>
class BasicBlock : public torch::nn::ModuleHolder<BasicBlockImpl<VDimension>>
{
public:
  using torch::nn::ModuleHolder<BasicBlockImpl<VDimension>>::ModuleHolder;
};

/** \class TransposeBasicBlockImpl
 * \brief The decoder's residual block: transposed conv3×3 (stride 2, output padding 1)–BN–
 * ReLU–conv3×3–BN, plus a 1×1 transposed conv–BN "upsample" shortcut, then ReLU (the NSA
 * paper's TransposeBasicBlock). Parameter names conv1, bn1, conv2, bn2, upsample.0,
 * upsample.1. Holder: TransposeBasicBlock<VDimension>. With finalRelu false the block
 * returns the sum before that last ReLU (network.final_relu, for the decoder's last block). */
template <unsigned int VDimension>
class TransposeBasicBlockImpl : public torch::nn::Module
{
public:
  using Traits = NetworkTraits<VDimension>;
  TransposeBasicBlockImpl(int inPlanes, int planes, int stride, bool finalRelu = true);
  at::Tensor
  forward(const at::Tensor & x);

private:
  bool                           m_FinalRelu = true;
  typename Traits::ConvTranspose m_Conv1{ nullptr };
  typename Traits::BatchNorm     m_BatchNorm1{ nullptr };
  typename Traits::Conv          m_Conv2{ nullptr };
  typename Traits::BatchNorm     m_BatchNorm2{ nullptr };
  typename Traits::ConvTranspose m_ShortcutConv{ nullptr };
  typename Traits::BatchNorm     m_ShortcutBatchNorm{ nullptr };
};

template <unsigned int VDimension>
class TransposeBasicBlock : public torch::nn::ModuleHolder<TransposeBasicBlockImpl<VDimension>>
{
public:
  using torch::nn::ModuleHolder<TransposeBasicBlockImpl<VDimension>>::ModuleHolder;
};

/** \class ResNetEncoderDecoder
 * \brief The NSA paper's ResNet-18 encoder–decoder in VDimension dimensions.
 *
 * Stem conv1 (7×7, stride 2, padding 3) – bn1 – ReLU – max-pool; layer1..layer4 of two
 * basic blocks each (64, 128, 256, 512 channels, strides 1, 2, 2, 2); nin.0 (1×1, 512→256) –
 * ReLU – nin.2 (1×1, 256→128) – ReLU; uplayer1..uplayer3 (one transposed block each, 64,
 * 32, 16 channels, stride 2); bilinear (trilinear) ×2; convtranspose1 (7×7, stride 2, padding
 * 3, output padding 1) to one channel; output activation. No bias in any convolution; no
 * skip connections between encoder and decoder. Channel counts scale with the width
 * multiplier. Parameter and buffer names equal PyTorch's for the paper's model, so its state
 * dict loads by name. Initialisation as the paper: Kaiming normal (fan-out, ReLU) for the
 * convolutions, PyTorch's default for the transposed ones, BN weight 1 and bias 0.
 */
template <unsigned int VDimension>
class ResNetEncoderDecoder : public EncoderDecoder
{
public:
  using Traits = NetworkTraits<VDimension>;
  explicit ResNetEncoderDecoder(const NetworkParameters & configuration);

  at::Tensor
  ForwardLogits(const at::Tensor & input) override;

private:
  /** layer1..4 and uplayer1..3: torch::nn::Sequential of residual blocks, registered as
   * "0", "1", ..., so that a layer's parameters read `layer1.0.conv1.weight`. */
  torch::nn::Sequential
  MakeLayer(const std::string & name, int & inPlanes, int planes, int blocks, int stride, bool transpose,
            bool finalRelu = true);

  typename Traits::Conv          m_Conv1{ nullptr };
  typename Traits::BatchNorm     m_BatchNorm1{ nullptr };
  torch::nn::Sequential          m_Layers[4];
  /** nin.0 (1×1 conv), nin.1 (ReLU), nin.2 (1×1 conv), nin.3 (ReLU): the paper's Sequential. */
  torch::nn::Sequential          m_Nin{ nullptr };
  torch::nn::Sequential          m_UpLayers[3];
  typename Traits::ConvTranspose m_ConvTranspose1{ nullptr };
};

/** Builds the network of a configuration (dimension 2 or 3), weights initialised from
 * LibTorch's global generator (call torch::manual_seed first for reproducible weights). */
std::shared_ptr<EncoderDecoder>
MakeNetwork(const NetworkParameters & configuration);

/** What one parameter or buffer of a network is: its sizes and element type. */
struct TensorSpec
{
  std::vector<std::int64_t> sizes;
  at::ScalarType            type = at::kFloat;
};

/** Every parameter and buffer of the network a configuration describes, by PyTorch name
 * ("layer1.0.conv1.weight"), worked out from the configuration alone: model files are
 * checked against it before the network is built, so that a description claiming a network
 * far larger than the weights in the file costs nothing. Equal to the built network's
 * named_parameters() and named_buffers() (unit test NetworkGTest.ExpectedTensorsMatchTheNetwork). */
std::map<std::string, TensorSpec>
ExpectedTensors(const NetworkParameters & configuration);

/** Refuses, naming the tensor, `context` and both shapes: a tensor missing from `tensors`
 * or not in `expected`, a shape or element type that differs (with `convertFloating`, any
 * floating-point type is accepted where float is expected: state dicts saved in half or
 * double precision), and a tensor whose view reaches outside its storage. Names may carry a
 * "module." prefix (DataParallel); returns the tensors by their names without it. */
std::map<std::string, at::Tensor>
CheckNamedTensors(const std::map<std::string, TensorSpec> &               expected,
                  const std::vector<std::pair<std::string, at::Tensor>> & tensors,
                  const std::string &                                     context,
                  bool                                                    convertFloating);

/** Copies named tensors into the network's parameters and buffers after CheckNamedTensors
 * has accepted all of them (the network is left unchanged when it throws nsa::InputError). */
void
LoadNamedTensors(EncoderDecoder &                                  network,
                 const std::vector<std::pair<std::string, at::Tensor>> & tensors,
                 const std::string &                               context,
                 bool                                              convertFloating = true);

/** Loads a PyTorch state dict file (see ReadStateDict) into the network. */
void
ImportStateDict(EncoderDecoder & network, const std::string & path);

} // namespace nsa

#endif
