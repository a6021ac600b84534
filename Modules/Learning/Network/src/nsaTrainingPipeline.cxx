#include "nsaTrainingPipeline.h"

#include "nsaAugmentation.h"
#include "nsaError.h"
#include "nsaPicture.h"
#include "nsaPredictor.h"
#include "nsaRandom.h"
#include "nsaSynthesis.h"

#include "itkMath.h"
#include "itkImageRegionIteratorWithIndex.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <tuple>

namespace nsa
{

namespace
{

template <unsigned int VDimension>
using FloatImage = itk::Image<float, VDimension>;
template <unsigned int VDimension>
using MaskImage = itk::Image<unsigned char, VDimension>;

template <typename TImage>
typename TImage::Pointer
NewImage(const typename TImage::SizeType & size, const typename TImage::SpacingType & spacing)
{
  auto image = TImage::New();
  image->SetRegions(typename TImage::RegionType(size));
  image->SetSpacing(spacing);
  image->Allocate();
  return image;
}

/** Copies slice `index` across `axis` of a volume into a 2D image (the other two axes in
 * increasing order, their spacing kept). */
template <typename TPixel>
typename itk::Image<TPixel, 2>::Pointer
ExtractSlice(const itk::Image<TPixel, 3> * volume, int axis, itk::IndexValueType index)
{
  const auto size3 = volume->GetLargestPossibleRegion().GetSize();
  int        axes[2];
  int        k = 0;
  for (int a = 0; a < 3; ++a)
  {
    if (a != axis)
    {
      axes[k++] = a;
    }
  }
  typename itk::Image<TPixel, 2>::SizeType    size;
  typename itk::Image<TPixel, 2>::SpacingType spacing;
  for (int i = 0; i < 2; ++i)
  {
    size[i] = size3[axes[i]];
    spacing[i] = volume->GetSpacing()[axes[i]];
  }
  auto slice = NewImage<itk::Image<TPixel, 2>>(size, spacing);
  for (itk::ImageRegionIteratorWithIndex<itk::Image<TPixel, 2>> it(slice, slice->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    itk::Index<3> source = volume->GetLargestPossibleRegion().GetIndex();
    source[axis] += index;
    source[axes[0]] += it.GetIndex()[0];
    source[axes[1]] += it.GetIndex()[1];
    it.Set(volume->GetPixel(source));
  }
  return slice;
}

bool
HasContent(const float * values, std::size_t count)
{
  const auto range = std::minmax_element(values, values + count);
  return *range.second - *range.first > 1e-6 * std::max(1.0f, std::abs(*range.second));
}

/** An augmented image with its mask (mask may be null). */
template <unsigned int VDimension>
struct Augmented
{
  typename FloatImage<VDimension>::Pointer image;
  typename MaskImage<VDimension>::Pointer  mask;
};

/** Random crop to crop_size, random flips, random in-plane (x-y) rotation. */
template <unsigned int VDimension>
Augmented<VDimension>
Augment(const FloatImage<VDimension> * image,
        const MaskImage<VDimension> *  mask,
        const TrainingParameters &     training,
        double                         padValue,
        RandomStream                   stream)
{
  using ImageType = FloatImage<VDimension>;
  using MaskType = MaskImage<VDimension>;
  const auto             inputSize = image->GetLargestPossibleRegion().GetSize();
  typename ImageType::SizeType size = inputSize;
  itk::Index<VDimension> start;
  start.Fill(0);
  bool flip[VDimension];
  for (unsigned int a = 0; a < VDimension; ++a)
  {
    if (training.crop_size.size() == VDimension)
    {
      size[a] = std::min<itk::SizeValueType>(inputSize[a], static_cast<itk::SizeValueType>(training.crop_size[a]));
      start[a] = stream.UniformInteger(0, static_cast<std::int64_t>(inputSize[a] - size[a]));
    }
  }
  for (unsigned int a = 0; a < VDimension; ++a)
  {
    flip[a] = training.flips && stream.Bernoulli(0.5);
  }
  const double angle =
    training.rotation_degrees > 0 ? stream.Uniform(-training.rotation_degrees, training.rotation_degrees) * itk::Math::pi / 180.0
                                  : 0.0;

  Augmented<VDimension> result;
  result.image = NewImage<ImageType>(size, image->GetSpacing());
  if (mask)
  {
    result.mask = NewImage<MaskType>(size, image->GetSpacing());
  }
  const auto sourceIndex = [&](const itk::Index<VDimension> & o) {
    itk::Index<VDimension> i;
    for (unsigned int a = 0; a < VDimension; ++a)
    {
      i[a] = start[a] + (flip[a] ? static_cast<itk::IndexValueType>(size[a]) - 1 - o[a] : o[a]);
    }
    return i;
  };
  if (angle == 0.0)
  {
    for (itk::ImageRegionIteratorWithIndex<ImageType> it(result.image, result.image->GetLargestPossibleRegion());
         !it.IsAtEnd();
         ++it)
    {
      const auto i = sourceIndex(it.GetIndex());
      it.Set(image->GetPixel(i));
      if (mask)
      {
        result.mask->SetPixel(it.GetIndex(), mask->GetPixel(i));
      }
    }
    return result;
  }
  // Rotation about the centre of the x-y plane (voxel units), bilinear for the image, nearest
  // for the mask; what comes from outside is the padding value (mask: background).
  const double c = std::cos(angle), s = std::sin(angle);
  const double cx = (size[0] - 1) / 2.0, cy = (size[1] - 1) / 2.0;
  for (itk::ImageRegionIteratorWithIndex<ImageType> it(result.image, result.image->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    const auto   o = it.GetIndex();
    const double dx = o[0] - cx, dy = o[1] - cy;
    const double x = c * dx + s * dy + cx, y = -s * dx + c * dy + cy;
    const auto   x0 = static_cast<itk::IndexValueType>(std::floor(x));
    const auto   y0 = static_cast<itk::IndexValueType>(std::floor(y));
    double       value = 0.0, weightSum = 0.0;
    for (int corner = 0; corner < 4; ++corner)
    {
      itk::Index<VDimension> q = o;
      q[0] = x0 + (corner & 1);
      q[1] = y0 + (corner >> 1);
      const double w = (1.0 - std::abs(x - q[0])) * (1.0 - std::abs(y - q[1]));
      const bool   inside = q[0] >= 0 && q[1] >= 0 && q[0] < static_cast<itk::IndexValueType>(size[0]) &&
                          q[1] < static_cast<itk::IndexValueType>(size[1]);
      value += w * (inside ? image->GetPixel(sourceIndex(q)) : padValue);
      weightSum += w;
    }
    it.Set(static_cast<float>(weightSum > 0 ? value / weightSum : padValue));
    if (mask)
    {
      itk::Index<VDimension> q = o;
      q[0] = static_cast<itk::IndexValueType>(std::lround(x));
      q[1] = static_cast<itk::IndexValueType>(std::lround(y));
      const bool inside = q[0] >= 0 && q[1] >= 0 && q[0] < static_cast<itk::IndexValueType>(size[0]) &&
                          q[1] < static_cast<itk::IndexValueType>(size[1]);
      result.mask->SetPixel(o, inside ? mask->GetPixel(sourceIndex(q)) : 0);
    }
  }
  return result;
}

/** Copies `image` centred into a canvas buffer (tensor order sizes) filled with `fill`. */
template <unsigned int VDimension>
void
PlaceCentred(const FloatImage<VDimension> * image,
             const std::vector<std::int64_t> & canvas,
             float                            fill,
             std::vector<float> &             buffer)
{
  const std::int64_t total = std::accumulate(canvas.begin(), canvas.end(), std::int64_t{ 1 }, std::multiplies<>());
  buffer.assign(total, fill);
  const auto                size = image->GetLargestPossibleRegion().GetSize();
  std::int64_t              offset[VDimension];
  std::int64_t              stride[VDimension];
  std::int64_t              step = 1;
  for (unsigned int a = 0; a < VDimension; ++a)
  {
    const std::int64_t c = canvas[VDimension - 1 - a];
    offset[a] = (c - static_cast<std::int64_t>(size[a])) / 2;
    stride[a] = step;
    step *= c;
  }
  for (itk::ImageRegionConstIteratorWithIndex<FloatImage<VDimension>> it(image, image->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    std::int64_t position = 0;
    for (unsigned int a = 0; a < VDimension; ++a)
    {
      position += (it.GetIndex()[a] + offset[a]) * stride[a];
    }
    buffer[position] = it.Get();
  }
}

std::vector<std::size_t>
EpochOrder(std::uint64_t seed, int epoch, std::size_t units)
{
  std::vector<std::size_t> order(units);
  std::iota(order.begin(), order.end(), 0);
  RandomStream stream(seed, static_cast<std::uint64_t>(epoch), 0, RandomPurpose::Shuffle);
  for (std::size_t i = units; i > 1; --i)
  {
    std::swap(order[i - 1], order[stream.UniformIndex(i)]);
  }
  return order;
}

} // namespace

template <unsigned int VDimension>
struct UnitsOf
{
  std::vector<typename FloatImage<VDimension>::Pointer> images;
  std::vector<typename MaskImage<VDimension>::Pointer>  masks; // empty entries: none
  std::vector<std::size_t>                              study; // index of the training image
};

struct Trainer::Pipeline::Units2D : UnitsOf<2>
{};
struct Trainer::Pipeline::Units3D : UnitsOf<3>
{};

namespace
{

template <unsigned int VDimension>
TrainingSample
MakeSampleOf(const UnitsOf<VDimension> &       units,
             const ModelDescription &          description,
             const std::vector<std::int64_t> & canvas,
             int                               epoch,
             std::int64_t                      index)
{
  const std::size_t count = units.images.size();
  const auto        order = EpochOrder(description.seed, epoch, count);
  const std::size_t destination = order[static_cast<std::size_t>(index) % count];
  RandomStream      selection(description.seed, static_cast<std::uint64_t>(epoch), index, RandomPurpose::ImageSelection);
  std::size_t       source = count > 1 ? (destination + 1 + selection.UniformIndex(count - 1)) % count : destination;
  if (description.training.source_from_other_study)
  {
    // Units of other studies than the destination's, drawn uniformly (none: keep the above).
    std::vector<std::size_t> others;
    for (std::size_t u = 0; u < count; ++u)
    {
      if (units.study[u] != units.study[destination])
      {
        others.push_back(u);
      }
    }
    if (!others.empty())
    {
      source = others[selection.UniformIndex(others.size())];
    }
  }

  const double padValue = description.normalisation.output_range.empty() ? 0.0 : description.normalisation.output_range[0];
  const RandomStream augmentation(description.seed, static_cast<std::uint64_t>(epoch), index, RandomPurpose::Augmentation);
  auto destinationAugmented = Augment<VDimension>(units.images[destination],
                                                  units.masks[destination].GetPointer(),
                                                  description.training,
                                                  padValue,
                                                  augmentation.Child(0));
  auto sourceAugmented = Augment<VDimension>(
    units.images[source], units.masks[source].GetPointer(), description.training, padValue, augmentation.Child(1));
  // Scanner variation, drawn independently for destination and source.
  IntensityRange range;
  range.low = padValue;
  range.high = description.normalisation.output_range.size() == 2 ? description.normalisation.output_range[1] : 1.0;
  range.clip = description.normalisation.clip && description.normalisation.mode != NormalisationMode::None;
  AugmentScanner<VDimension>(
    destinationAugmented.image, destinationAugmented.mask, description.augmentation, range, augmentation.Child(2));
  AugmentScanner<VDimension>(
    sourceAugmented.image, sourceAugmented.mask, description.augmentation, range, augmentation.Child(3));

  const RandomStream synthesisStream(description.seed, static_cast<std::uint64_t>(epoch), index, RandomPurpose::Synthesis);
  const auto         result = Synthesize<VDimension>(destinationAugmented.image,
                                             sourceAugmented.image,
                                             destinationAugmented.mask,
                                             sourceAugmented.mask,
                                             description.synthesis,
                                             synthesisStream,
                                             1);
  TrainingSample sample;
  sample.sizes = canvas;
  PlaceCentred<VDimension>(result.image, canvas, static_cast<float>(padValue), sample.image);
  PlaceCentred<VDimension>(result.label, canvas, 0.0f, sample.label);
  sample.blended_patches = result.record.NumberOfBlendedPatches();
  return sample;
}

template <unsigned int VDimension>
std::vector<std::int64_t>
CanvasOf(const UnitsOf<VDimension> & units, const TrainingParameters & training)
{
  std::vector<std::int64_t> canvas(VDimension, 0);
  for (const auto & image : units.images)
  {
    for (unsigned int a = 0; a < VDimension; ++a)
    {
      std::int64_t size = static_cast<std::int64_t>(image->GetLargestPossibleRegion().GetSize()[a]);
      if (training.crop_size.size() == VDimension)
      {
        size = std::min<std::int64_t>(size, static_cast<std::int64_t>(training.crop_size[a]));
      }
      canvas[VDimension - 1 - a] = std::max(canvas[VDimension - 1 - a], size);
    }
  }
  const std::int64_t divisor = NetworkParameters::SizeDivisor;
  for (auto & size : canvas)
  {
    size = (size + divisor - 1) / divisor * divisor;
  }
  return canvas;
}

} // namespace

Trainer::Pipeline::Pipeline(const ModelDescription & description, std::vector<TrainingImage> images)
  : m_Description(description)
{
  const TrainingParameters &  training = description.training;
  const SynthesisParameters & synthesis = description.synthesis;
  if (images.empty())
  {
    throw InputError("training: no training images");
  }
  const NetworkParameters &   network = description.network;
  if (network.input_channels != 1)
  {
    throw ParameterError("network.input_channels: training synthesises single-channel images only (got " +
                         std::to_string(network.input_channels) + ")");
  }
  if (!training.crop_size.empty() && training.crop_size.size() != static_cast<std::size_t>(network.dimension))
  {
    throw ParameterError("training.crop_size: " + std::to_string(training.crop_size.size()) +
                         " values given for a " + std::to_string(network.dimension) + "D model");
  }
  const bool needMask = synthesis.object_mask == ObjectMask::Image;
  for (const auto & entry : images)
  {
    if (!entry.image)
    {
      throw InputError("training: image '" + entry.name + "' is missing");
    }
    if (needMask && !entry.mask)
    {
      throw InputError("training: synthesis.object_mask is 'image' but image '" + entry.name + "' has no mask");
    }
    if (entry.mask && entry.mask->GetLargestPossibleRegion().GetSize() != entry.image->GetLargestPossibleRegion().GetSize())
    {
      throw InputError("training: the mask of image '" + entry.name + "' does not match the image's size");
    }
  }
  // ComputeObjectMask returns null for the modes without a computed mask.
  const bool computeMask = synthesis.object_mask != ObjectMask::None && synthesis.object_mask != ObjectMask::Image;

  if (network.dimension == 2)
  {
    m_Units2D = std::make_unique<Units2D>();
    for (const auto & entry : images)
    {
      const auto size = entry.image->GetLargestPossibleRegion().GetSize();
      // Slices across the voxel axis closest to the patient axis slice_axis; a 2D image (one
      // slice) is its own unit whatever slice_axis says.
      const int axis = SliceAxisOf(entry.image.GetPointer(), training.slice_axis);
      // The study's slices with their object area (mask voxels; without a mask, voxels above
      // the slice's minimum), so that min_slice_object can drop the small sections.
      std::vector<std::tuple<FloatImage<2>::Pointer, MaskImage<2>::Pointer, std::size_t>> slices;
      std::size_t largest = 0;
      for (itk::SizeValueType k = 0; k < size[axis]; ++k)
      {
        auto slice = ExtractSlice<float>(entry.image.GetPointer(), axis, static_cast<itk::IndexValueType>(k));
        const std::size_t count = slice->GetLargestPossibleRegion().GetNumberOfPixels();
        if (!HasContent(slice->GetBufferPointer(), count))
        {
          continue;
        }
        MaskImage<2>::Pointer mask;
        if (entry.mask)
        {
          mask = ExtractSlice<unsigned char>(entry.mask.GetPointer(), axis, static_cast<itk::IndexValueType>(k));
        }
        else if (computeMask)
        {
          mask = ComputeObjectMask<2>(slice.GetPointer(), synthesis);
        }
        std::size_t area = 0;
        if (mask)
        {
          area = static_cast<std::size_t>(std::count_if(
            mask->GetBufferPointer(), mask->GetBufferPointer() + count, [](unsigned char v) { return v != 0; }));
        }
        else
        {
          const float low = *std::min_element(slice->GetBufferPointer(), slice->GetBufferPointer() + count);
          area = static_cast<std::size_t>(std::count_if(
            slice->GetBufferPointer(), slice->GetBufferPointer() + count, [low](float v) { return v > low; }));
        }
        largest = std::max(largest, area);
        slices.emplace_back(slice, mask, area);
      }
      for (const auto & [slice, mask, area] : slices)
      {
        if (static_cast<double>(area) < training.min_slice_object * static_cast<double>(largest))
        {
          continue;
        }
        m_Units2D->images.push_back(slice);
        m_Units2D->masks.push_back(mask);
        m_Units2D->study.push_back(static_cast<std::size_t>(&entry - images.data()));
      }
    }
    if (m_Units2D->images.empty())
    {
      throw InputError("training: every slice of the training images is constant");
    }
    m_Canvas = CanvasOf<2>(*m_Units2D, training);
  }
  else
  {
    m_Units3D = std::make_unique<Units3D>();
    for (const auto & entry : images)
    {
      MaskImage<3>::Pointer mask = entry.mask;
      if (!mask && computeMask)
      {
        mask = ComputeObjectMask<3>(entry.image.GetPointer(), synthesis);
      }
      m_Units3D->images.push_back(entry.image);
      m_Units3D->masks.push_back(mask);
      m_Units3D->study.push_back(static_cast<std::size_t>(&entry - images.data()));
    }
    m_Canvas = CanvasOf<3>(*m_Units3D, training);
  }
}

Trainer::Pipeline::~Pipeline() = default;

std::size_t
Trainer::Pipeline::NumberOfUnits() const
{
  return m_Units2D ? m_Units2D->images.size() : m_Units3D->images.size();
}

std::int64_t
Trainer::Pipeline::SamplesPerEpoch() const
{
  return m_Description.training.samples_per_epoch > 0 ? m_Description.training.samples_per_epoch
                                                      : static_cast<std::int64_t>(this->NumberOfUnits());
}

TrainingSample
Trainer::Pipeline::MakeSample(int epoch, std::int64_t index) const
{
  if (m_Units2D)
  {
    return MakeSampleOf<2>(*m_Units2D, m_Description, m_Canvas, epoch, index);
  }
  return MakeSampleOf<3>(*m_Units3D, m_Description, m_Canvas, epoch, index);
}

// ---------------------------------------------------------------------------------------
SampleProducer::SampleProducer(const Trainer::Pipeline & pipeline,
                               int                       epoch,
                               std::int64_t              samples,
                               int                       batchSize,
                               int                       workers)
  : m_Pipeline(pipeline)
  , m_Epoch(epoch)
{
  for (std::int64_t i = 0; i < samples; ++i)
  {
    m_Indices.push_back(i);
  }
  for (std::int64_t first = 0; first < samples; first += batchSize)
  {
    m_BatchSizes.push_back(std::min<std::int64_t>(batchSize, samples - first));
  }
  Start(workers);
}

SampleProducer::SampleProducer(const Trainer::Pipeline & pipeline,
                               int                       epoch,
                               std::vector<std::int64_t> indices,
                               std::vector<std::int64_t> batchSizes,
                               int                       workers)
  : m_Pipeline(pipeline)
  , m_Epoch(epoch)
  , m_Indices(std::move(indices))
  , m_BatchSizes(std::move(batchSizes))
{
  Start(workers);
}

void
SampleProducer::Start(int workers)
{
  std::int64_t largest = 1;
  for (const std::int64_t size : m_BatchSizes)
  {
    largest = std::max(largest, size);
  }
  m_Window = std::max<std::int64_t>(2 * largest, 2 * workers);
  for (int i = 0; i < workers; ++i)
  {
    m_Workers.emplace_back([this] { this->Work(); });
  }
}

SampleProducer::~SampleProducer()
{
  {
    std::lock_guard<std::mutex> lock(m_Mutex);
    m_Stop = true;
  }
  m_Changed.notify_all();
  for (auto & worker : m_Workers)
  {
    worker.join();
  }
}

void
SampleProducer::Work()
{
  const auto positions = static_cast<std::int64_t>(m_Indices.size());
  while (true)
  {
    std::int64_t position;
    {
      std::unique_lock<std::mutex> lock(m_Mutex);
      m_Changed.wait(lock, [this, positions] {
        return m_Stop || m_Error || m_NextToMake >= positions || m_NextToMake < m_Consumed + m_Window;
      });
      if (m_Stop || m_Error || m_NextToMake >= positions)
      {
        return;
      }
      position = m_NextToMake++;
    }
    try
    {
      TrainingSample sample = m_Pipeline.MakeSample(m_Epoch, m_Indices[static_cast<std::size_t>(position)]);
      std::lock_guard<std::mutex> lock(m_Mutex);
      m_Ready.emplace(position, std::move(sample));
    }
    catch (...)
    {
      std::lock_guard<std::mutex> lock(m_Mutex);
      if (!m_Error)
      {
        m_Error = std::current_exception();
      }
    }
    m_Changed.notify_all();
  }
}

std::vector<TrainingSample>
SampleProducer::NextBatch(double & waitSeconds)
{
  std::vector<TrainingSample> batch;
  if (m_NextBatch >= m_BatchSizes.size())
  {
    return batch;
  }
  const std::int64_t first = m_Consumed;
  const std::int64_t last = first + m_BatchSizes[m_NextBatch++];
  if (m_Workers.empty())
  {
    for (std::int64_t i = first; i < last; ++i)
    {
      batch.push_back(m_Pipeline.MakeSample(m_Epoch, m_Indices[static_cast<std::size_t>(i)]));
    }
    m_Consumed = last;
    return batch;
  }
  const auto                   start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(m_Mutex);
  for (std::int64_t i = first; i < last; ++i)
  {
    m_Changed.wait(lock, [this, i] { return m_Error || m_Ready.count(i) > 0; });
    if (m_Error)
    {
      std::rethrow_exception(m_Error);
    }
    auto it = m_Ready.find(i);
    batch.push_back(std::move(it->second));
    m_Ready.erase(it);
  }
  m_Consumed = last;
  lock.unlock();
  m_Changed.notify_all();
  waitSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return batch;
}

// ---------------------------------------------------------------------------------------
void
WriteLossCurvePng(const std::string & path, const std::vector<double> & losses)
{
  const int       width = 640, height = 400, margin = 40;
  Picture         image(width, height, 3, 255);
  const Picture::Colour black{ 0, 0, 0 };
  const Picture::Colour grey{ 200, 200, 200 };
  const Picture::Colour blue{ 31, 119, 180 };
  const auto put = [&](int x, int y, const Picture::Colour & colour) {
    image.Set(x, height - 1 - y, colour); // y upwards
  };
  // Axes, and a grey line at every power of ten of the (log) loss.
  for (int x = margin; x < width - margin / 2; ++x)
  {
    put(x, margin, black);
  }
  for (int y = margin; y < height - margin / 2; ++y)
  {
    put(margin, y, black);
  }
  std::vector<double> logs;
  for (double loss : losses)
  {
    logs.push_back(std::log10(std::max(loss, 1e-12)));
  }
  if (!logs.empty())
  {
    double low = *std::min_element(logs.begin(), logs.end());
    double high = *std::max_element(logs.begin(), logs.end());
    if (high - low < 1e-6)
    {
      low -= 0.5;
      high += 0.5;
    }
    const double plotWidth = width - 1.5 * margin - 1, plotHeight = height - 1.5 * margin - 1;
    const auto   toY = [&](double value) { return margin + 1 + (value - low) / (high - low) * (plotHeight - 1); };
    for (double decade = std::ceil(low); decade <= high; decade += 1.0)
    {
      const int y = static_cast<int>(std::lround(toY(decade)));
      for (int x = margin + 1; x < width - margin / 2; x += 3)
      {
        put(x, y, grey);
      }
    }
    const auto toX = [&](std::size_t i) {
      return margin + 1 + (logs.size() > 1 ? static_cast<double>(i) / (logs.size() - 1) : 0.5) * (plotWidth - 1);
    };
    for (std::size_t i = 0; i < logs.size(); ++i)
    {
      const double x0 = toX(i), y0 = toY(logs[i]);
      const double x1 = i + 1 < logs.size() ? toX(i + 1) : x0, y1 = i + 1 < logs.size() ? toY(logs[i + 1]) : y0;
      const int    steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
      for (int s = 0; s <= steps; ++s)
      {
        const double t = static_cast<double>(s) / steps;
        const int    x = static_cast<int>(std::lround(x0 + t * (x1 - x0)));
        const int    y = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
        for (int dx = -1; dx <= 1; ++dx)
        {
          put(x + dx, y, blue);
          put(x, y + dx, blue);
        }
      }
    }
  }
  WritePng(image, path);
}

void
WriteExamplePng(const std::string &                                  path,
                const std::vector<std::vector<std::vector<float>>> & rows,
                std::int64_t                                         height,
                std::int64_t                                         width)
{
  if (rows.empty())
  {
    return;
  }
  // One grey tile per panel, tiled `columns` to a row with 2 white pixels between them.
  const std::size_t    columns = rows[0].size();
  std::vector<Picture> tiles;
  for (std::size_t r = 0; r < rows.size(); ++r)
  {
    for (std::size_t c = 0; c < columns; ++c)
    {
      const auto & panel = rows[r][c];
      float        low = 0.0f, high = 1.0f;
      if (c == 0 && !panel.empty())
      {
        const auto range = std::minmax_element(panel.begin(), panel.end());
        low = *range.first;
        high = std::max(*range.second, low + 1e-6f);
      }
      Picture tile(static_cast<std::size_t>(width), static_cast<std::size_t>(height), 1);
      for (std::int64_t y = 0; y < height; ++y)
      {
        for (std::int64_t x = 0; x < width; ++x)
        {
          const float value = (panel[y * width + x] - low) / (high - low);
          *tile.At(x, y) = static_cast<unsigned char>(std::lround(255.0f * std::clamp(value, 0.0f, 1.0f)));
        }
      }
      tiles.push_back(std::move(tile));
    }
  }
  WritePng(Tile(tiles, columns, 2, 255), path);
}

} // namespace nsa
