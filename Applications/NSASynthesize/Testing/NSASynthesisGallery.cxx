// Writes the synthesis gallery of Documentation/Gallery: for one image, every blend mode with
// its label, on the same patch geometry (same seed), as one PNG:
//
//   row 1: the destination, then the anomalous image of each blend mode
//          (poisson-source, poisson-mixed, swap, uniform, poisson-uniform);
//   row 2: the source, then the label of each blend mode (black 0 -> red -> yellow -> white 1).
//
// Grey values are windowed from the destination's 1st to 99th percentile (per channel for
// RGB). Usage (Documentation/Gallery/README.md has the exact commands):
//
//   NSASynthesisGallery <destination> <source|-> <preset> <output.png> <seed> [slice_axis slice_index [source_slice]]
//
// A volume with slice_axis -1 is synthesised in 3D and shown on the axial slice through the
// centre of the first blended patch.

#include "itkNaturalSyntheticAnomalyImageFilter.h"
#include "nsaImageIO.h"
#include "nsaPercentile.h"
#include "nsaPicture.h"
#include "nsaPreset.h"

#include "itkExtractImageFilter.h"
#include "itkImageRegionConstIteratorWithIndex.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

namespace
{

using Float2 = itk::VectorImage<float, 2>;
using Float3 = itk::VectorImage<float, 3>;

const char * const BlendModes[] = { "poisson-source", "poisson-mixed", "swap", "uniform", "poisson-uniform" };

template <typename TVolume>
Float2::Pointer
Slice(const TVolume * volume, int axis, long index)
{
  auto region = volume->GetLargestPossibleRegion();
  auto start = region.GetIndex();
  auto size = region.GetSize();
  start[axis] += index;
  size[axis] = 0;
  auto extract = itk::ExtractImageFilter<TVolume, Float2>::New();
  extract->SetInput(volume);
  extract->SetExtractionRegion(typename TVolume::RegionType(start, size));
  extract->SetDirectionCollapseToGuess();
  extract->Update();
  Float2::Pointer slice = extract->GetOutput();
  slice->DisconnectPipeline();
  return slice;
}

/** Percentile window per channel of an image. */
std::vector<std::pair<double, double>>
Window(const Float2 * image)
{
  const unsigned int                     channels = image->GetNumberOfComponentsPerPixel();
  const std::size_t                      count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  std::vector<std::pair<double, double>> window;
  for (unsigned int c = 0; c < channels; ++c)
  {
    std::vector<float> values(count);
    for (std::size_t i = 0; i < count; ++i)
    {
      values[i] = image->GetBufferPointer()[i * channels + c];
    }
    const std::vector<double> range = nsa::Percentiles(values, { 1.0, 99.0 }, nsa::PercentileRule::Lower);
    window.emplace_back(range[0], range[1]);
  }
  return window;
}

/** Pastes a tile (grey or RGB image, or a heat-coloured label) into the canvas. */
void
Paste(nsa::Picture & canvas, const Float2 * tile, long column, long row, const std::vector<std::pair<double, double>> * window)
{
  const auto         size = tile->GetLargestPossibleRegion().GetSize();
  const unsigned int channels = tile->GetNumberOfComponentsPerPixel();
  for (long y = 0; y < static_cast<long>(size[1]); ++y)
  {
    for (long x = 0; x < static_cast<long>(size[0]); ++x)
    {
      const float * value = tile->GetBufferPointer() + (y * static_cast<long>(size[0]) + x) * channels;
      // Image rows go down the page in ITK index order; flip y so that anatomy is upright.
      unsigned char * out = canvas.At(column + x, row + (static_cast<long>(size[1]) - 1 - y));
      if (window)
      {
        for (unsigned int c = 0; c < 3; ++c)
        {
          const auto & w = (*window)[std::min(c, channels - 1)];
          const double v = (value[std::min(c, channels - 1)] - w.first) / std::max(1e-12, w.second - w.first);
          out[c] = static_cast<unsigned char>(std::round(255.0 * std::clamp(v, 0.0, 1.0)));
        }
      }
      else
      {
        const auto heat = nsa::ColormapRgb("hot", std::clamp(static_cast<double>(value[0]), 0.0, 1.0));
        std::copy(heat.begin(), heat.end(), out);
      }
    }
  }
}

template <typename TImage>
Float2::Pointer
ToSlice(const TImage * image, int axis, long index)
{
  if constexpr (TImage::ImageDimension == 2)
  {
    auto copy = Float2::New();
    copy->CopyInformation(image);
    copy->SetRegions(image->GetLargestPossibleRegion());
    copy->SetNumberOfComponentsPerPixel(image->GetNumberOfComponentsPerPixel());
    copy->Allocate();
    std::copy(image->GetBufferPointer(),
              image->GetBufferPointer() +
                image->GetLargestPossibleRegion().GetNumberOfPixels() * image->GetNumberOfComponentsPerPixel(),
              copy->GetBufferPointer());
    return copy;
  }
  else
  {
    return Slice(image, axis, index);
  }
}

template <typename TImage>
void
Gallery(const typename TImage::Pointer & destination,
        const typename TImage::Pointer & source,
        const nsa::SynthesisParameters & preset,
        const std::string &              output,
        std::uint64_t                    seed)
{
  std::vector<Float2::Pointer> images, labels;
  long                         sliceZ = -1;
  for (const char * blend : BlendModes)
  {
    nsa::SynthesisParameters p = preset;
    p.blend_mode = nsa::FromString<nsa::BlendMode>(blend);
    if (p.label_mode == nsa::LabelMode::Continuous)
    {
      p.label_mode = nsa::LabelMode::LogisticIntensity;
    }
    auto filter = itk::NaturalSyntheticAnomalyImageFilter<TImage>::New();
    filter->SetDestinationImage(destination);
    filter->SetSourceImage(source);
    filter->SetParameters(p);
    filter->SetSeed(seed);
    filter->Update();
    const auto & record = filter->GetRecord();
    std::cout << output << " " << blend << ": " << record.NumberOfBlendedPatches() << " patches blended\n";
    if (TImage::ImageDimension == 3 && sliceZ < 0)
    {
      for (const auto & patch : record.patches)
      {
        if (patch.status == nsa::PatchStatus::Blended)
        {
          sliceZ = patch.destination_index[2] + patch.destination_size[2] / 2 -
                   destination->GetLargestPossibleRegion().GetIndex()[2];
          break;
        }
      }
      sliceZ = std::max(sliceZ, 0L);
    }
    images.push_back(ToSlice(filter->GetOutput(), 2, sliceZ));
    // The label as a one-channel vector image.
    auto label = itk::VectorImage<float, TImage::ImageDimension>::New();
    label->CopyInformation(filter->GetLabelOutput());
    label->SetRegions(filter->GetLabelOutput()->GetLargestPossibleRegion());
    label->SetNumberOfComponentsPerPixel(1);
    label->Allocate();
    std::copy(filter->GetLabelOutput()->GetBufferPointer(),
              filter->GetLabelOutput()->GetBufferPointer() +
                filter->GetLabelOutput()->GetLargestPossibleRegion().GetNumberOfPixels(),
              label->GetBufferPointer());
    labels.push_back(ToSlice(label.GetPointer(), 2, sliceZ));
  }
  const auto destinationSlice = ToSlice(destination.GetPointer(), 2, sliceZ);
  const auto sourceSlice = ToSlice(source.GetPointer(), 2, sliceZ);
  const auto window = Window(destinationSlice);
  const auto size = destinationSlice->GetLargestPossibleRegion().GetSize();
  const long gap = 4;
  nsa::Picture canvas((size[0] + gap) * 6 - gap, (size[1] + gap) * 2 - gap, 3, 255);
  const long step = static_cast<long>(size[0]) + gap;
  const long rowStep = static_cast<long>(size[1]) + gap;
  Paste(canvas, destinationSlice, 0, 0, &window);
  const auto sourceWindow = Window(sourceSlice);
  Paste(canvas, sourceSlice, 0, rowStep, &sourceWindow);
  for (std::size_t i = 0; i < images.size(); ++i)
  {
    Paste(canvas, images[i], step * static_cast<long>(i + 1), 0, &window);
    Paste(canvas, labels[i], step * static_cast<long>(i + 1), rowStep, nullptr);
  }
  nsa::WritePng(canvas, output);
}

} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 6)
  {
    std::cerr << "usage: " << argv[0]
              << " <destination> <source|-> <preset> <output.png> <seed> [slice_axis slice_index [source_slice]]\n";
    return 2;
  }
  try
  {
    const std::string destinationPath = argv[1];
    const std::string sourcePath = std::string(argv[2]) == "-" ? destinationPath : argv[2];
    const auto        preset = nsa::LoadPreset(argv[3]).synthesis;
    const std::string output = argv[4];
    const auto        seed = static_cast<std::uint64_t>(std::stoull(argv[5]));
    const int         axis = argc > 6 ? std::stoi(argv[6]) : -1;
    const long        slice = argc > 7 ? std::stol(argv[7]) : 0;
    const long        sourceSlice = argc > 8 ? std::stol(argv[8]) : slice;
    const auto        info = nsa::ReadImageInfo(destinationPath);
    if (info.dimension == 3 && axis < 0)
    {
      Gallery<Float3>(nsa::ReadImage<Float3>(destinationPath), nsa::ReadImage<Float3>(sourcePath), preset, output,
                      seed);
    }
    else if (info.dimension == 3)
    {
      Gallery<Float2>(Slice(nsa::ReadImage<Float3>(destinationPath).GetPointer(), axis, slice),
                      Slice(nsa::ReadImage<Float3>(sourcePath).GetPointer(), axis, sourceSlice), preset, output, seed);
    }
    else
    {
      Gallery<Float2>(nsa::ReadImage<Float2>(destinationPath), nsa::ReadImage<Float2>(sourcePath), preset, output,
                      seed);
    }
  }
  catch (const std::exception & error)
  {
    std::cerr << argv[0] << ": error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
