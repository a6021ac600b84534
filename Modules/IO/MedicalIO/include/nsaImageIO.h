#ifndef nsaImageIO_h
#define nsaImageIO_h

#include "itkImage.h"
#include "itkVectorImage.h"

#include <string>
#include <utility>
#include <vector>

namespace nsa
{

/** \brief Options of nsa::ReadImage.
 *
 * The defaults are the safe choice for everything the toolkit reads (studies, score maps,
 * masks): non-finite voxels are refused, a DICOM folder must hold exactly one series.
 */
struct ReadImageOptions
{
  /** Accept NaN and infinite voxels in floating-point images (default false: an
   * nsa::InputError names the file and the first such voxel). */
  bool allowNonFinite = false;
  /** For a DICOM folder that holds several series: the Series Instance UID to read. Empty
   * (default): the folder must hold exactly one series, otherwise the error lists them. */
  std::string seriesInstanceUid;
  /** Refuse a file that does not fill every axis of the image type (default false): with
   * it, a 2D image or a one-slice volume read as a 3D image is an nsa::InputError, for
   * callers that need real volumes (3D training). */
  bool requireFullDimension = false;
};

/** Limits of a DICOM folder read by nsa::ReadImage (sub-folders included): at most
 * DicomFolderMaximumFiles files (100000) and DicomFolderMaximumDepth levels of sub-folders
 * (32). Symbolic links inside the folder are not followed. */
extern const std::size_t DicomFolderMaximumFiles;
extern const int         DicomFolderMaximumDepth;

/** Reads an image file (anything ITK reads: NIfTI, NRRD, MetaImage, PNG, a single DICOM
 * file, ...) or a DICOM series folder (sub-folders included) into `TImage`, with origin,
 * spacing and direction. DICOM Segmentation and Parametric Map files are read by
 * nsa::ReadDicomSegmentation / nsa::ReadParametricMap (GDCM cannot place them in space);
 * a legacy multi-frame file takes its geometry from its header; a cine (frames over time)
 * is refused. See Documentation/IO.md for every case and its test.
 *
 * Dimensions: a file with fewer dimensions than `TImage` is read as an image whose extra
 * axes have size 1 (a 2D PNG or a single DICOM slice read as a 3D volume is a one-slice
 * volume). A file with more dimensions than `TImage` is accepted only when every extra axis
 * has size 1; a real 3D volume where a 2D image is required is an nsa::InputError.
 *
 * Pixels: values are converted to `TImage`'s pixel type as ITK converts them (no
 * rescaling; DICOM rescale slope/intercept is applied by GDCM). A scalar `TImage` of an
 * RGB/RGBA file gets ITK's luminance; any other multi-component file read into a scalar
 * image is an nsa::InputError. A VectorImage gets every component.
 *
 * Errors: a missing, unreadable, corrupt or truncated file, an empty folder, an ambiguous
 * DICOM folder, non-finite voxels (unless allowed) all throw nsa::InputError naming the
 * file and the problem. */
template <typename TImage>
typename TImage::Pointer
ReadImage(const std::string & path, const ReadImageOptions & options = ReadImageOptions());

/** Writes `image` to `path` atomically (nsa::AtomicOutput: no partial file is ever left
 * under `path`). The format follows the extension: `.nii`, `.nii.gz`, `.nrrd`, `.mha`,
 * `.png` (unsigned char only, 2D or a single slice). Two-file formats (`.nhdr`, `.mhd`,
 * `.hdr`) are refused because they cannot be written atomically. `compress` turns on the
 * format's lossless compression (ignored for `.nii`: use `.nii.gz`).
 * Throws nsa::OutputError naming the file on failure. */
template <typename TImage>
void
WriteImage(const TImage * image, const std::string & path, bool compress = true);

/** \brief What an image file holds, read from its header only (no pixel data). */
struct ImageFileInfo
{
  unsigned int        dimension = 0;  ///< number of axes in the file (a DICOM folder: 3)
  unsigned int        components = 0; ///< components per voxel (1 scalar, 3 RGB, ...)
  std::vector<size_t> size;           ///< voxels per axis
  std::vector<double> spacing;        ///< mm per axis
  std::string         pixelType;      ///< component type as ITK names it: "float", "unsigned_char", "short", ...
};

/** Reads the header of an image file, or of the single series in a DICOM folder. Throws
 * nsa::InputError naming the file when it is missing or unreadable. */
ImageFileInfo
ReadImageInfo(const std::string & path);

/** True if `path` names a file whose extension nsa::WriteImage accepts. */
bool
IsWritableImageExtension(const std::string & path);

// Instantiated once, in nsaImageIO.cxx, for the toolkit's pixel types.
#define NSA_IMAGEIO_EXTERN(...)                                                                              \
  extern template __VA_ARGS__::Pointer ReadImage<__VA_ARGS__>(const std::string &, const ReadImageOptions &);          \
  extern template void            WriteImage<__VA_ARGS__>(const __VA_ARGS__ *, const std::string &, bool)
NSA_IMAGEIO_EXTERN(itk::Image<float, 2>);
NSA_IMAGEIO_EXTERN(itk::Image<float, 3>);
NSA_IMAGEIO_EXTERN(itk::Image<unsigned char, 2>);
NSA_IMAGEIO_EXTERN(itk::Image<unsigned char, 3>);
NSA_IMAGEIO_EXTERN(itk::VectorImage<float, 2>);
NSA_IMAGEIO_EXTERN(itk::VectorImage<float, 3>);
#undef NSA_IMAGEIO_EXTERN

} // namespace nsa

#endif
