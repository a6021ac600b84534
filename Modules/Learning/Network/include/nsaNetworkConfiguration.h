#ifndef nsaNetworkConfiguration_h
#define nsaNetworkConfiguration_h

#include "nsaParameterJson.h"

#include <cstdint>
#include <string>

namespace nsa
{

/** \brief What a network is: everything needed to rebuild it before its weights are loaded.
 *
 * Saved in every model file (key "network" of the configuration JSON). The architecture is the
 * NSA paper's `resnet18_enc_dec` (Schlüter et al., ECCV 2022, model/resnet.py of the official
 * code): a ResNet-18 encoder ([2, 2, 2, 2] basic blocks after a 7×7 stride-2 stem and a 3×3
 * stride-2 max-pool), a 1×1 "network in network" 512→256→128, three transposed residual
 * blocks 64, 32, 16 (stride 2), bilinear ×2 upsampling, a 7×7 stride-2 transposed
 * convolution to one channel and the output activation. Every channel count c becomes
 * max(1, round(c · width_multiplier)).
 */
struct NetworkConfiguration
{
  static constexpr const char * SectionName = "network";

  std::string architecture = "resnet18-enc-dec";
  int         dimension = 2;
  double      width_multiplier = 1.0;
  int         input_channels = 1;
  std::string output_activation = "sigmoid";

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Choice("architecture", self.architecture, { "resnet18-enc-dec" },
             "Network architecture: the NSA paper's ResNet-18 encoder-decoder without skip connections.");
    v.Integer("dimension", self.dimension, 2, 3, "Spatial dimension of the network (2: slices or 2D images, 3: volumes).");
    v.Real("width_multiplier", self.width_multiplier, 1.0 / 64.0, 4.0,
           "Channel width multiplier; 1.0 is the paper's model (11,491,440 parameters with one input channel).");
    v.Integer("input_channels", self.input_channels, 1, 64, "Input channels (1 for CT/MR, 3 for RGB).");
    v.Choice("output_activation", self.output_activation, { "sigmoid", "relu", "identity" },
             "Output activation: sigmoid for BCE-trained models, relu for raw-intensity labels (MSE).");
  }

  void
  Validate() const
  {}

  /** The channel count of a layer that has `paperChannels` channels at width 1.0. */
  int
  Channels(int paperChannels) const;

  /** Every spatial size given to the network must be a multiple of this (the encoder
   * halves the size five times). */
  static constexpr int SizeDivisor = 32;
};

} // namespace nsa

#endif
