#ifndef nsaOverlay_h
#define nsaOverlay_h

#include "nsaPicture.h"

#include "itkImage.h"

#include <string>
#include <vector>

namespace nsa
{

/** \brief Options of nsa::WriteOverlayPng. */
struct OverlayOptions
{
  /** Slice index along `axis`; -1 (default): the slice where the map's sum is largest. */
  int          slice = -1;
  /** Slicing axis (index axis of the image): 2 axial, 1 coronal, 0 sagittal for images in
   * the usual orientation. Slices are shown in radiological convention from the image's
   * direction cosines: patient's left on the right, anterior up (axial), superior up
   * (coronal, sagittal), anterior on the left (sagittal). */
  unsigned int axis = 2;
  /** A grid of `montageSlices` evenly spaced slices instead of one slice. */
  bool         montage = false;
  unsigned int montageSlices = 9;
  /** "hot", "jet" or "viridis". */
  std::string  colormap = "hot";
  /** Map values shown: mapRange[0] is transparent, mapRange[1] full colour at `opacity`. */
  std::vector<double> mapRange{ 0.0, 1.0 };
  double       opacity = 0.6;
  /** Grey-level window of the image [low, high]; empty (default): its 1st and 99th percentiles. */
  std::vector<double> window;
};

/** Writes an RGB PNG of `image` (grey levels) with `map` overlaid in colour: the colour
 * of a map value v is colormap(t) blended with opacity `opacity * t`, where t is v scaled
 * from mapRange to [0, 1] and clipped. One slice or a montage; pixels are shown one
 * screen pixel per voxel (no resampling for anisotropic spacing). `map` must have the
 * size of `image`. Written atomically; nsa::ParameterError for bad options or sizes,
 * nsa::OutputError naming the file when it cannot be written. */
void
WriteOverlayPng(const itk::Image<float, 3> * image, const itk::Image<float, 3> * map, const std::string & path,
                const OverlayOptions & options = OverlayOptions());

/** The same for 2D images. */
void
WriteOverlayPng(const itk::Image<float, 2> * image, const itk::Image<float, 2> * map, const std::string & path,
                const OverlayOptions & options = OverlayOptions());

} // namespace nsa

#endif
