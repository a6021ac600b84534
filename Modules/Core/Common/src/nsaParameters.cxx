#include "nsaParameters.h"

#include "nsaError.h"
#include "nsaMessageText.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace nsa
{

namespace
{

void
RequireOrderedPairs(const char * key, const std::vector<double> & values)
{
  for (std::size_t i = 0; i + 1 < values.size(); i += 2)
  {
    if (values[i] > values[i + 1])
    {
      throw ParameterError(std::string(key) + ": low bound " + FormatNumber(values[i]) + " is above high bound " +
                           FormatNumber(values[i + 1]));
    }
  }
}

} // namespace

void
SynthesisParameters::Validate() const
{
  RequireOrderedPairs("width_bounds", width_bounds);
  RequireOrderedPairs("cutpaste_area_bounds", cutpaste_area_bounds);
  RequireOrderedPairs("cutpaste_aspect_bounds", cutpaste_aspect_bounds);
  RequireOrderedPairs("resize_bounds", resize_bounds);
  RequireOrderedPairs("interpolation_bounds", interpolation_bounds);
  RequireOrderedPairs("intensity_range", intensity_range);
  for (std::size_t i = 1; i < width_bounds.size(); i += 2)
  {
    if (width_bounds[i] <= 0.0)
    {
      throw ParameterError("width_bounds: high bound must be above 0");
    }
  }
  if (object_mask == ObjectMask::Background && !background_intensity)
  {
    throw ParameterError("object_mask 'background' needs background_intensity");
  }
  if (object_mask == ObjectMask::Threshold && !object_threshold)
  {
    throw ParameterError("object_mask 'threshold' needs object_threshold");
  }
  if (label_mode == LabelMode::Continuous && !IsInterpolatedBlend(blend_mode))
  {
    throw ParameterError("label_mode 'continuous' labels the interpolation factor and needs blend_mode 'uniform' "
                         "or 'poisson-uniform', not '" +
                         std::string(ToString(blend_mode)) + "'");
  }
}

void
NormalisationParameters::Validate() const
{
  RequireOrderedPairs("percentiles", percentiles);
  if (window[0] >= window[1])
  {
    throw ParameterError("window: low " + FormatNumber(window[0]) + " must be below high " + FormatNumber(window[1]));
  }
  if (mode == NormalisationMode::Percentile && percentiles[0] >= percentiles[1])
  {
    throw ParameterError("percentiles: low must be below high");
  }
  if (output_range[0] >= output_range[1])
  {
    throw ParameterError("output_range: low must be below high");
  }
}

void
ValidateDeviceName(const std::string & device)
{
  CudaDeviceIndex(device);
}

// Parses the device string digit by digit, so that an index of any length ends in a message
// that names the setting and the value (std::stoi threw a bare "stoi" for cuda:99999999999).
int
CudaDeviceIndex(const std::string & device)
{
  if (device == "auto" || device == "cpu")
  {
    return -1;
  }
  if (device == "cuda")
  {
    return 0;
  }
  const std::string quoted = ShortenForMessage(device);
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5)
  {
    long long index = 0;
    for (std::size_t i = 5; i < device.size(); ++i)
    {
      if (!std::isdigit(static_cast<unsigned char>(device[i])))
      {
        index = -1;
        break;
      }
      index = std::min<long long>(index * 10 + (device[i] - '0'), MaximumCudaDeviceIndex + 1);
    }
    if (index > MaximumCudaDeviceIndex)
    {
      throw ParameterError("device: '" + quoted + "': the device number N of cuda:N must be 0 to " +
                           std::to_string(MaximumCudaDeviceIndex));
    }
    if (index >= 0)
    {
      return static_cast<int>(index);
    }
  }
  throw ParameterError("device: '" + quoted + "' is not one of auto, cpu, cuda, cuda:N");
}

void
AugmentationParameters::Validate() const
{
  RequireOrderedPairs("gamma", gamma);
  RequireOrderedPairs("contrast", contrast);
  RequireOrderedPairs("brightness", brightness);
  RequireOrderedPairs("noise", noise);
  RequireOrderedPairs("blur", blur);
  RequireOrderedPairs("resolution", resolution);
}

bool
AugmentationParameters::IsIdentity() const
{
  const auto constant = [](const std::vector<double> & range, double identity) {
    return range.size() == 2 && range[0] == identity && range[1] == identity;
  };
  return probability == 0.0 || (constant(gamma, 1.0) && constant(contrast, 1.0) && constant(brightness, 0.0) &&
                                bias_field == 0.0 && constant(noise, 0.0) && constant(blur, 0.0) &&
                                constant(resolution, 0.0) && elastic_displacement == 0.0 &&
                                remap_points == 0);
}

void
TrainingParameters::Validate() const
{
  if (min_learning_rate > learning_rate)
  {
    throw ParameterError("min_learning_rate " + FormatNumber(min_learning_rate) + " is above learning_rate " +
                         FormatNumber(learning_rate));
  }
  ValidateDeviceName(device);
}

void
TrainingParameters::Validate(const NetworkParameters & network) const
{
  Validate();
  const int dimension = network.dimension;
  if (!crop_size.empty() && static_cast<int>(crop_size.size()) != dimension && dimension == 3)
  {
    throw ParameterError("crop_size: a 3D model needs 3 sizes");
  }
  if (!spacing.empty() && static_cast<int>(spacing.size()) != dimension)
  {
    throw ParameterError("spacing: a " + std::to_string(dimension) + "D model needs " + std::to_string(dimension) +
                         " values (2D: the in-plane spacing of its slices), got " + std::to_string(spacing.size()));
  }
}

int
NetworkParameters::Channels(int paperChannels) const
{
  return std::max(1, static_cast<int>(std::lround(paperChannels * width_multiplier)));
}

void
PredictionParameters::Validate() const
{
  ValidateDeviceName(device);
}

} // namespace nsa
