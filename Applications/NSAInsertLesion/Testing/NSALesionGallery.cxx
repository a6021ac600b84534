// Writes the lesion-kind gallery of Documentation/Gallery/lesion-kinds.png: one lesion of every
// kind of nsa::InsertSyntheticLesion at the same place in a volume (same shape, same seed),
// shown on the axial slice through its centre, cropped around it and enlarged twice:
//
//   row 1: the input, then the lesioned slice of each kind (in nsa::LesionKind order);
//   row 2: the same with the ground-truth mask's outline (yellow).
//
// The picture is written by nsa::WriteOverlayPng (the overlay writer of NSAOverlay) with the
// outline as the map. Usage (Documentation/Programs/NSAInsertLesion.md has the exact command):
//
//   NSALesionGallery <volume> <output.png> <seed> <centre_index i,j,k> <radii x,y,z> [shape]

#include "nsaImageIO.h"
#include "nsaOverlay.h"
#include "nsaSyntheticLesion.h"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace
{
using FloatImage = itk::Image<float, 3>;
using Float2 = itk::Image<float, 2>;

std::vector<double>
Numbers(const std::string & text)
{
  std::vector<double> values;
  std::stringstream   stream(text);
  std::string         item;
  while (std::getline(stream, item, ','))
  {
    values.push_back(std::stod(item));
  }
  return values;
}

/** Copies the crop [x0, x0 + n) x [y0, y0 + n) of slice z of `volume`, each voxel as 2 x 2
 * pixels, into the tile at (column, row) of `canvas`. With `outline`, a voxel of `mask` with
 * a 4-neighbour outside the mask gets 1 in the map. */
void
Paste(const FloatImage * volume, const itk::Image<unsigned char, 3> * mask, long z, long x0, long y0, long n,
      long column, long row, Float2 * canvas, Float2 * map)
{
  const long width = static_cast<long>(canvas->GetLargestPossibleRegion().GetSize()[0]);
  auto       inMask = [&](long x, long y) {
    const FloatImage::IndexType index{ { x, y, z } };
    return mask->GetLargestPossibleRegion().IsInside(index) && mask->GetPixel(index) != 0;
  };
  for (long y = 0; y < n; ++y)
  {
    for (long x = 0; x < n; ++x)
    {
      const FloatImage::IndexType index{ { x0 + x, y0 + y, z } };
      const float value = volume->GetLargestPossibleRegion().IsInside(index) ? volume->GetPixel(index) : 0.0f;
      bool        edge = false;
      if (mask && inMask(x0 + x, y0 + y))
      {
        edge = !inMask(x0 + x - 1, y0 + y) || !inMask(x0 + x + 1, y0 + y) || !inMask(x0 + x, y0 + y - 1) ||
               !inMask(x0 + x, y0 + y + 1);
      }
      for (long dy = 0; dy < 2; ++dy)
      {
        for (long dx = 0; dx < 2; ++dx)
        {
          const long offset = (row * 2 * n + 2 * y + dy) * width + column * 2 * n + 2 * x + dx;
          canvas->GetBufferPointer()[offset] = value;
          map->GetBufferPointer()[offset] = edge ? 1.0f : 0.0f;
        }
      }
    }
  }
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc < 6)
  {
    std::cerr << "usage: NSALesionGallery <volume> <output.png> <seed> <centre_index i,j,k> <radii x,y,z> [shape]\n";
    return 2;
  }
  try
  {
    const auto                     volume = nsa::ReadImage<FloatImage>(argv[1]);
    nsa::SyntheticLesionParameters parameters;
    parameters.seed = std::stoull(argv[3]);
    parameters.centre_index = Numbers(argv[4]);
    parameters.radii = Numbers(argv[5]);
    parameters.shape = nsa::FromString<nsa::LesionShape>(argc > 6 ? argv[6] : "irregular");

    const std::vector<std::string> kinds = nsa::ModeChoices<nsa::LesionKind>();
    const long   n = 96; // crop (voxels) around the centre
    const long   z = std::lround(parameters.centre_index[2]);
    const long   x0 = std::lround(parameters.centre_index[0]) - n / 2;
    const long   y0 = std::lround(parameters.centre_index[1]) - n / 2;
    const long   columns = static_cast<long>(kinds.size()) + 1;

    auto            canvas = Float2::New();
    Float2::SizeType size{ { static_cast<itk::SizeValueType>(columns * 2 * n), static_cast<itk::SizeValueType>(4 * n) } };
    canvas->SetRegions(size);
    canvas->Allocate();
    auto map = Float2::New();
    map->SetRegions(size);
    map->Allocate();
    map->FillBuffer(0.0f);

    // The overlay writer shows index row 0 at the top of a 2D canvas without direction.
    Paste(volume, nullptr, z, x0, y0, n, 0, 0, canvas, map);
    Paste(volume, nullptr, z, x0, y0, n, 0, 1, canvas, map);
    for (std::size_t k = 0; k < kinds.size(); ++k)
    {
      parameters.kind = nsa::FromString<nsa::LesionKind>(kinds[k]);
      const nsa::SyntheticLesion lesion = nsa::InsertSyntheticLesion(volume, parameters);
      Paste(lesion.image, nullptr, z, x0, y0, n, static_cast<long>(k) + 1, 0, canvas, map);
      Paste(lesion.image, lesion.mask, z, x0, y0, n, static_cast<long>(k) + 1, 1, canvas, map);
      std::cout << kinds[k] << ": " << lesion.maskVoxels << " mask voxels, core change " << lesion.appliedChange
                << (lesion.kind == nsa::LesionKind::MassEffect
                      ? ", displacement " + std::to_string(lesion.appliedDisplacement) + " mm"
                      : std::string())
                << '\n';
    }
    nsa::OverlayOptions options;
    options.colormap = "viridis";
    options.opacity = 1.0;
    options.mapRange = { 0.0, 1.0 };
    nsa::WriteOverlayPng(canvas, map, argv[2], options);
  }
  catch (const std::exception & error)
  {
    std::cerr << "NSALesionGallery: error: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
