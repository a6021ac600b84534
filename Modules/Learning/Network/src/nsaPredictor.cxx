#include "nsaPredictor.h"

#include "nsaError.h"
#include "nsaPercentile.h"
#include "nsaModelImpl.h"
#include "nsaTensorBridge.h"

#include <ATen/Functions.h>
#include <torch/utils.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace nsa
{

namespace
{

/** Start positions of windows of `window` voxels covering [0, length) with at most
 * `window · (1 - overlap)` between starts; first at 0, last at length - window. */
std::vector<std::int64_t>
WindowStarts(std::int64_t length, std::int64_t window, double overlap)
{
  if (length <= window)
  {
    return { 0 };
  }
  const std::int64_t step = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(window * (1.0 - overlap))));
  const std::int64_t count = (length - window + step - 1) / step + 1;
  std::vector<std::int64_t> starts(count);
  for (std::int64_t i = 0; i < count; ++i)
  {
    starts[i] = static_cast<std::int64_t>(std::llround(static_cast<double>(i) * (length - window) / (count - 1)));
  }
  return starts;
}

/** Product of per-axis Gaussians, σ = window / 8, maximum 1, floored at 1e-3 so that every
 * voxel keeps a positive weight (the corners of a window would otherwise vanish). */
at::Tensor
GaussianWeight(const std::vector<std::int64_t> & window)
{
  at::Tensor weight = at::ones({ 1 }, at::kFloat);
  for (std::size_t axis = 0; axis < window.size(); ++axis)
  {
    const double    sigma = window[axis] / 8.0;
    const double    centre = (window[axis] - 1) / 2.0;
    const at::Tensor x = at::arange(window[axis], at::kFloat);
    const at::Tensor g = at::exp(-0.5 * at::pow((x - centre) / sigma, 2));
    weight = weight.unsqueeze(-1) * g;
  }
  return weight.squeeze(0).clamp_min(1e-3);
}

/** \class PredictionRun
 * \brief One Predict() call: the network on its device in evaluation mode, the padding
 * value, and the slice-wise and sliding-window loops. */
class PredictionRun
{
public:
  PredictionRun(const Model & model, const PredictionParameters & parameters, ProgressObserver * progress)
    : m_Impl(model.GetImpl())
    , m_Parameters(parameters)
    , m_Progress(progress ? progress : &m_NullProgress)
    , m_Device(ResolveDevice(parameters.device))
  {
    m_Impl.network->to(m_Device);
    m_Impl.network->eval();
    m_PadValue = m_Impl.description.normalisation.output_range.empty()
                   ? 0.0
                   : m_Impl.description.normalisation.output_range[0];
  }

  /** [S, C, H, W] slices → [S, H, W] scores. */
  at::Tensor
  Slices(const at::Tensor & slices)
  {
    std::vector<std::int64_t> before;
    const std::vector<std::int64_t> sizes{ slices.size(2), slices.size(3) };
    const at::Tensor padded = PadSpatialCentred(slices, 2, NetworkParameters::SizeDivisor, m_PadValue, before);
    at::Tensor output = at::empty({ slices.size(0), sizes[0], sizes[1] }, at::kFloat);
    const std::int64_t batch = m_Parameters.batch_size;
    for (std::int64_t start = 0; start < slices.size(0); start += batch)
    {
      const std::int64_t count = std::min(batch, slices.size(0) - start);
      const at::Tensor scores = m_Impl.network->forward(padded.narrow(0, start, count).to(m_Device));
      output.narrow(0, start, count).copy_(CropSpatial(scores, before, sizes).select(1, 0).to(at::kCPU));
      m_Progress->Report(static_cast<double>(start + count) / slices.size(0));
    }
    return output;
  }

  /** [1, C, Z, Y, X] → [Z, Y, X] by a 2D model across `sliceAxis` (ITK axis). */
  at::Tensor
  VolumeBySlices(const at::Tensor & volume, int sliceAxis)
  {
    // ITK axis a is tensor axis (2 - a) of [C, Z, Y, X] without the channel, i.e. 3 - a with it.
    const std::int64_t tensorAxis = 3 - sliceAxis;
    const at::Tensor slices = volume.select(0, 0).movedim(tensorAxis, 0).contiguous(); // [S, C, H, W]
    const at::Tensor scores = this->Slices(slices);                                       // [S, H, W]
    return scores.movedim(0, tensorAxis - 1).contiguous();
  }

  /** [1, C, Z, Y, X] → [Z, Y, X] by a 3D model over Gaussian-weighted sliding windows. */
  at::Tensor
  VolumeByWindows(const at::Tensor & volume)
  {
    const ModelDescription &  description = m_Impl.description;
    std::vector<double>       windowXYZ = m_Parameters.window_size;
    if (windowXYZ.empty() && description.training.crop_size.size() == 3)
    {
      windowXYZ = description.training.crop_size;
    }
    const std::vector<std::int64_t> sizes{ volume.size(2), volume.size(3), volume.size(4) };
    std::vector<std::int64_t> window(3);
    for (int i = 0; i < 3; ++i)
    {
      const std::int64_t requested =
        windowXYZ.empty() ? sizes[i] : static_cast<std::int64_t>(std::ceil(windowXYZ[2 - i]));
      const std::int64_t d = NetworkParameters::SizeDivisor;
      window[i] = (std::max<std::int64_t>(requested, 1) + d - 1) / d * d;
    }
    std::vector<std::int64_t> before;
    const at::Tensor padded = PadSpatialCentred(volume, 3, 1, m_PadValue, before, window);
    std::vector<std::vector<std::int64_t>> starts(3);
    for (int i = 0; i < 3; ++i)
    {
      starts[i] = WindowStarts(padded.size(2 + i), window[i], m_Parameters.window_overlap);
    }
    std::vector<std::array<std::int64_t, 3>> positions;
    for (auto z : starts[0])
      for (auto y : starts[1])
        for (auto x : starts[2])
          positions.push_back({ z, y, x });

    const at::Tensor cpuWeight = GaussianWeight(window); // [wz, wy, wx]
    const at::Tensor weight = cpuWeight.to(m_Device);
    at::Tensor sum = at::zeros({ padded.size(2), padded.size(3), padded.size(4) }, at::kFloat);
    at::Tensor weightSum = at::zeros_like(sum);
    const std::size_t batch = static_cast<std::size_t>(m_Parameters.batch_size);
    for (std::size_t first = 0; first < positions.size(); first += batch)
    {
      const std::size_t count = std::min(batch, positions.size() - first);
      std::vector<at::Tensor> windows;
      for (std::size_t i = first; i < first + count; ++i)
      {
        windows.push_back(padded.narrow(2, positions[i][0], window[0])
                            .narrow(3, positions[i][1], window[1])
                            .narrow(4, positions[i][2], window[2]));
      }
      const at::Tensor scores = m_Impl.network->forward(at::cat(windows, 0).to(m_Device)).select(1, 0);
      const at::Tensor weighted = (scores * weight).to(at::kCPU);
      for (std::size_t i = 0; i < count; ++i)
      {
        const auto & p = positions[first + i];
        sum.narrow(0, p[0], window[0]).narrow(1, p[1], window[1]).narrow(2, p[2], window[2]).add_(weighted[i]);
        weightSum.narrow(0, p[0], window[0]).narrow(1, p[1], window[1]).narrow(2, p[2], window[2]).add_(cpuWeight);
      }
      m_Progress->Report(static_cast<double>(first + count) / positions.size());
    }
    return CropSpatial(sum / weightSum, before, sizes).contiguous();
  }

  int
  Dimension() const
  {
    return m_Impl.description.network.dimension;
  }
  int
  Channels() const
  {
    return m_Impl.description.network.input_channels;
  }

private:
  Model::Impl &                m_Impl;
  const PredictionParameters & m_Parameters;
  NullProgress                 m_NullProgress;
  ProgressObserver *           m_Progress;
  torch::Device                m_Device;
  double                       m_PadValue = 0.0;
};

void
CheckChannels(std::size_t given, int expected)
{
  if (static_cast<int>(given) != expected)
  {
    throw InputError("predict: the model expects " + std::to_string(expected) + " input channel(s), got " +
                     std::to_string(given));
  }
}

} // namespace

int
SliceAxisOf(const itk::ImageBase<3> * image, int patientAxis)
{
  if (patientAxis < 0 || patientAxis > 2)
  {
    throw ParameterError("slice_axis must be 0, 1 or 2, not " + std::to_string(patientAxis));
  }
  const auto size = image->GetLargestPossibleRegion().GetSize();
  // A 2D image stored as a one-slice volume is one slice whatever the slice axis says.
  for (int a = 2; a >= 0; --a)
  {
    if (size[a] == 1)
    {
      return size[patientAxis] == 1 ? patientAxis : a;
    }
  }
  const auto & direction = image->GetDirection(); // column a: voxel axis a in physical space
  int          best = patientAxis;
  for (int a = 0; a < 3; ++a)
  {
    if (std::abs(direction[patientAxis][a]) > std::abs(direction[patientAxis][best]) + 1e-6)
    {
      best = a;
    }
  }
  return best;
}

Predictor::Predictor(Model model, const PredictionParameters & parameters)
  : m_Model(std::move(model))
  , m_Parameters(parameters)
{
  m_Parameters.Validate();
}

Predictor::VolumeType::Pointer
Predictor::Predict(const std::vector<const VolumeType *> & channels, ProgressObserver * progress) const
{
  PredictionRun run(m_Model, m_Parameters, progress);
  CheckChannels(channels.size(), run.Channels());
  torch::NoGradGuard noGrad;
  const at::Tensor volume = ImagesToTensor<3>(channels); // [1, C, Z, Y, X]
  const int axis = SliceAxisOf(channels[0], m_Parameters.slice_axis);
  const at::Tensor scores = run.Dimension() == 2 ? run.VolumeBySlices(volume, axis) : run.VolumeByWindows(volume);
  return TensorToImage<3>(scores, channels[0]);
}

Predictor::VolumeType::Pointer
Predictor::Predict(const VolumeType * image, ProgressObserver * progress) const
{
  return this->Predict(std::vector<const VolumeType *>{ image }, progress);
}

Predictor::SliceType::Pointer
Predictor::Predict(const std::vector<const SliceType *> & channels, ProgressObserver * progress) const
{
  PredictionRun run(m_Model, m_Parameters, progress);
  CheckChannels(channels.size(), run.Channels());
  if (run.Dimension() != 2)
  {
    throw InputError("predict: a 3D model cannot score a 2D image");
  }
  torch::NoGradGuard noGrad;
  const at::Tensor image = ImagesToTensor<2>(channels); // [1, C, H, W]
  return TensorToImage<2>(run.Slices(image), channels[0]);
}

Predictor::SliceType::Pointer
Predictor::Predict(const SliceType * image, ProgressObserver * progress) const
{
  return this->Predict(std::vector<const SliceType *>{ image }, progress);
}

// ---------------------------------------------------------------------------------------
CaseScores
ComputeCaseScores(std::vector<float> values, const PredictionParameters & parameters)
{
  if (values.empty())
  {
    throw InputError("case score: no voxels to score (empty map or mask)");
  }
  CaseScores scores;
  const std::size_t n = values.size();
  double            sum = 0.0;
  for (float value : values)
  {
    sum += value;
  }
  scores.mean = sum / n;

  scores.percentile = Percentile(values, parameters.score_percentile, PercentileRule::Linear);

  std::sort(values.begin(), values.end());
  const std::size_t k =
    std::min(n, std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(parameters.top_k_fraction * n))));
  double topSum = 0.0;
  for (std::size_t i = n - k; i < n; ++i)
  {
    topSum += values[i];
  }
  scores.top_k_mean = topSum / k;

  switch (parameters.case_score)
  {
    case CaseScore::Percentile:
      scores.selected = scores.percentile;
      break;
    case CaseScore::TopKMean:
      scores.selected = scores.top_k_mean;
      break;
    case CaseScore::Mean:
      scores.selected = scores.mean;
      break;
  }
  return scores;
}

namespace
{
template <unsigned int VDimension>
CaseScores
ComputeCaseScoresOf(const itk::Image<float, VDimension> *         map,
                    const PredictionParameters &                  parameters,
                    const itk::Image<unsigned char, VDimension> * mask)
{
  if (map == nullptr)
  {
    throw InputError("case score: no score map");
  }
  const std::size_t count = map->GetBufferedRegion().GetNumberOfPixels();
  const float *     buffer = map->GetBufferPointer();
  if (mask == nullptr)
  {
    return ComputeCaseScores(std::vector<float>(buffer, buffer + count), parameters);
  }
  if (mask->GetBufferedRegion().GetSize() != map->GetBufferedRegion().GetSize())
  {
    throw InputError("case score: the mask's size differs from the score map's");
  }
  std::vector<float>    values;
  const unsigned char * maskBuffer = mask->GetBufferPointer();
  for (std::size_t i = 0; i < count; ++i)
  {
    if (maskBuffer[i] != 0)
    {
      values.push_back(buffer[i]);
    }
  }
  return ComputeCaseScores(std::move(values), parameters);
}
} // namespace

CaseScores
ComputeCaseScores(const itk::Image<float, 3> *         map,
                  const PredictionParameters &         parameters,
                  const itk::Image<unsigned char, 3> * mask)
{
  return ComputeCaseScoresOf<3>(map, parameters, mask);
}

CaseScores
ComputeCaseScores(const itk::Image<float, 2> *         map,
                  const PredictionParameters &         parameters,
                  const itk::Image<unsigned char, 2> * mask)
{
  return ComputeCaseScoresOf<2>(map, parameters, mask);
}

} // namespace nsa
