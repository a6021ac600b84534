#include "nsaOverlay.h"

#include "nsaError.h"
#include "nsaPercentile.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

namespace nsa
{

namespace
{
using FloatImage = itk::Image<float, 3>;

/** Voxel (u, v) of slice s: u along the first in-plane axis, v along the second. */
struct SliceView
{
  unsigned int  axis;
  unsigned int  uAxis;
  unsigned int  vAxis;
  bool          flipU;
  bool          flipV;
  FloatImage::SizeType size;

  size_t
  Offset(size_t u, size_t v, size_t s) const
  {
    size_t index[3];
    index[axis] = s;
    index[uAxis] = flipU ? size[uAxis] - 1 - u : u;
    index[vAxis] = flipV ? size[vAxis] - 1 - v : v;
    return index[0] + size[0] * (index[1] + size[1] * index[2]);
  }
};

void
CheckOptions(const OverlayOptions & options)
{
  ColormapColour(options.colormap, 0.0);
  if (options.axis > 2)
  {
    throw ParameterError("overlay axis must be 0, 1 or 2");
  }
  if (options.mapRange.size() != 2 || !(options.mapRange[1] > options.mapRange[0]))
  {
    throw ParameterError("overlay mapRange must be [low, high] with low < high");
  }
  if (!options.window.empty() && (options.window.size() != 2 || !(options.window[1] > options.window[0])))
  {
    throw ParameterError("overlay window must be empty or [low, high] with low < high");
  }
  if (!(options.opacity >= 0.0 && options.opacity <= 1.0))
  {
    throw ParameterError("overlay opacity must be in [0, 1]");
  }
  if (options.montage && options.montageSlices == 0)
  {
    throw ParameterError("overlay montageSlices must be at least 1");
  }
}

} // namespace

void
WriteOverlayPng(const FloatImage * image, const FloatImage * map, const std::string & path,
                const OverlayOptions & options)
{
  CheckOptions(options);
  if (image == nullptr || map == nullptr)
  {
    throw ParameterError("Cannot write '" + path + "': no image or no map given");
  }
  const auto size = image->GetLargestPossibleRegion().GetSize();
  if (map->GetLargestPossibleRegion().GetSize() != size)
  {
    std::ostringstream message;
    message << "Cannot write '" << path << "': the map is " << map->GetLargestPossibleRegion().GetSize()
            << " voxels, the image " << size << " (the map must have the image's geometry)";
    throw ParameterError(message.str());
  }
  SliceView view;
  view.axis = options.axis;
  view.uAxis = options.axis == 0 ? 1 : 0;
  view.vAxis = options.axis == 2 ? 1 : 2;
  // Radiological display in patient coordinates (ITK's LPS): the patient's left on the
  // right of the picture; axial with anterior up, coronal and sagittal with superior up,
  // sagittal with anterior on the left. Each in-plane axis is flipped when its direction
  // cosine points the other way.
  const auto & direction = image->GetDirection();
  if (options.axis == 2)
  {
    view.flipU = direction(0, view.uAxis) < 0.0; // screen right: +x (left)
    view.flipV = direction(1, view.vAxis) < 0.0; // screen down: +y (posterior)
  }
  else
  {
    view.flipU = options.axis == 1 ? direction(0, view.uAxis) < 0.0  // coronal, screen right: +x
                                   : direction(1, view.uAxis) < 0.0; // sagittal, screen right: +y (posterior)
    view.flipV = direction(2, view.vAxis) > 0.0; // screen down: -z (inferior)
  }
  view.size = size;
  const size_t slices = size[view.axis];
  const size_t width = size[view.uAxis];
  const size_t height = size[view.vAxis];

  std::vector<size_t> chosen;
  if (options.montage)
  {
    const size_t tiles = std::min<size_t>(options.montageSlices, slices);
    for (size_t i = 0; i < tiles; ++i)
    {
      // Evenly spaced, away from the first and last slice when there are more slices than tiles.
      chosen.push_back(tiles == slices ? i
                                       : static_cast<size_t>(std::llround((i + 1.0) * slices / (tiles + 1.0) - 0.5)));
    }
  }
  else if (options.slice >= 0)
  {
    if (static_cast<size_t>(options.slice) >= slices)
    {
      throw ParameterError("overlay slice " + std::to_string(options.slice) + " is outside 0.." +
                           std::to_string(slices - 1));
    }
    chosen.push_back(static_cast<size_t>(options.slice));
  }
  else
  {
    size_t best = 0;
    double bestSum = -1.0;
    for (size_t s = 0; s < slices; ++s)
    {
      double sum = 0.0;
      for (size_t v = 0; v < height; ++v)
      {
        for (size_t u = 0; u < width; ++u)
        {
          sum += std::max(0.0f, map->GetBufferPointer()[view.Offset(u, v, s)]);
        }
      }
      if (sum > bestSum)
      {
        bestSum = sum;
        best = s;
      }
    }
    chosen.push_back(best);
  }

  // Grey window from the shown slices.
  double low = 0.0, high = 1.0;
  if (!options.window.empty())
  {
    low = options.window[0];
    high = options.window[1];
  }
  else
  {
    std::vector<float> values;
    for (const size_t s : chosen)
    {
      for (size_t v = 0; v < height; ++v)
      {
        for (size_t u = 0; u < width; ++u)
        {
          values.push_back(image->GetBufferPointer()[view.Offset(u, v, s)]);
        }
      }
    }
    // Nearest rank, as the overlays were first drawn; an empty slice set gives [0, 1].
    const std::vector<double> window =
      values.empty() ? std::vector<double>{ 0.0, 0.0 } : Percentiles(values, { 1.0, 99.0 }, PercentileRule::Nearest);
    low = window[0];
    high = window[1];
    if (!(high > low))
    {
      high = low + 1.0;
    }
  }

  std::vector<Picture> tiles;
  for (const size_t s : chosen)
  {
    Picture tile(width, height, 3);
    for (size_t v = 0; v < height; ++v)
    {
      for (size_t u = 0; u < width; ++u)
      {
        const size_t offset = view.Offset(u, v, s);
        const double grey = WindowLevel(image->GetBufferPointer()[offset], low, high);
        const double t = WindowLevel(map->GetBufferPointer()[offset], options.mapRange[0], options.mapRange[1]);
        const auto   colour = ColormapColour(options.colormap, t);
        const double alpha = std::isfinite(t) ? options.opacity * t : 0.0;
        unsigned char * pixel = tile.At(u, v);
        for (unsigned int k = 0; k < 3; ++k)
        {
          pixel[k] = static_cast<unsigned char>(std::lround(255.0 * ((1.0 - alpha) * grey + alpha * colour[k])));
        }
      }
    }
    tiles.push_back(std::move(tile));
  }
  // A square-ish montage with 2 black pixels between tiles.
  const size_t columns = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(chosen.size()))));
  WritePng(Tile(tiles, columns, chosen.size() > 1 ? 2 : 0, 0), path);
}

void
WriteOverlayPng(const itk::Image<float, 2> * image, const itk::Image<float, 2> * map, const std::string & path,
                const OverlayOptions & options)
{
  if (image == nullptr || map == nullptr)
  {
    throw ParameterError("Cannot write '" + path + "': no image or no map given");
  }
  auto to3D = [](const itk::Image<float, 2> * in) {
    auto       out = FloatImage::New();
    const auto size = in->GetLargestPossibleRegion().GetSize();
    out->SetRegions(FloatImage::SizeType{ { size[0], size[1], 1 } });
    out->Allocate();
    std::copy(in->GetBufferPointer(), in->GetBufferPointer() + in->GetLargestPossibleRegion().GetNumberOfPixels(),
              out->GetBufferPointer());
    return out;
  };
  OverlayOptions flat = options;
  flat.axis = 2;
  flat.montage = false;
  flat.slice = 0;
  WriteOverlayPng(to3D(image).GetPointer(), to3D(map).GetPointer(), path, flat);
}

} // namespace nsa
