#ifndef nsaImageIO_hxx
#define nsaImageIO_hxx

// Definitions of nsaImageIO.h's templates. Included only by nsaImageIO.cxx (the toolkit's
// pixel types are instantiated there) and by code that needs another pixel type.

#include "nsaImageIO.h"

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageSeriesReader.h"
#include "itkGDCMImageIO.h"
#include "itkImageRegionConstIterator.h"
#include "nsaAtomicOutput.h"
#include "nsaError.h"

#include <array>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "itkImageIOBase.h"

// Helpers of the templates below, defined in nsaImageIO.cxx.
namespace nsa
{
namespace detail
{

/** What a read resolves to: one file, or the ordered files of one DICOM series. */
struct ResolvedInput
{
  std::string              path;  ///< as given by the caller (used in messages)
  bool                     isDicomSeries = false;
  std::vector<std::string> files; ///< one file, or the series files in slice order
  std::string              seriesInstanceUid;
  double                   sliceSpacing = 0.0; ///< series only: spacing between slice positions
  std::vector<std::string> sopClassUids;      ///< DICOM (series or file): per file, in order
  std::vector<std::string> sopInstanceUids;   ///< DICOM (series or file): per file, in order
  std::vector<unsigned int> numberOfFrames;   ///< DICOM (series or file): per file, in order
  std::vector<std::array<double, 3>> imagePositions; ///< DICOM single-frame files with a position: per file
  itk::ImageIOBase::Pointer io;   ///< header already read (first file of a series); null for derivedImage
  /** A DICOM Segmentation or Parametric Map (multi-frame objects that GDCM cannot place
   * in space or scale): read with the module's own readers, in physical space. */
  itk::Image<float, 3>::Pointer derivedImage;
  /** NIfTI float data: the first voxel (linear index) that is NaN or infinite, -1 if none.
   * ITK's NIfTI reader turns such voxels into 0, so they are found in the file itself. */
  long long              nonFiniteVoxel = -1;
  double                 nonFiniteValue = 0.0;
  std::vector<long long> nonFiniteSize; ///< the file's axis lengths, to name the voxel
  /** Single legacy multi-frame DICOM file (frames without functional groups): GDCM
   * ignores its Image Position/Orientation and Spacing Between Slices (origin 0, 1 mm), so
   * the geometry is taken from the header. */
  struct
  {
    bool   valid = false;
    bool   hasPosition = false;
    double origin[3] = { 0.0, 0.0, 0.0 };
    double orientation[6] = { 1.0, 0.0, 0.0, 0.0, 1.0, 0.0 };
    double spacing[3] = { 1.0, 1.0, 1.0 };
  } multiFrame;
};

/** Checks that `path` exists and is readable, finds the series of a DICOM folder
 * (choosing by UID, listing the series when ambiguous), creates the ImageIO and reads the
 * header. Throws nsa::InputError naming the file and the problem. */
ResolvedInput
ResolveInput(const std::string & path, const std::string & seriesInstanceUid);

/** The regular files of a folder and its sub-folders, sorted; symbolic links below the
 * folder are not followed (counted in skippedLinks). Throws nsa::InputError beyond
 * DicomFolderMaximumFiles files or DicomFolderMaximumDepth levels. */
struct FolderFiles
{
  std::vector<std::string> files;
  std::size_t              skippedLinks = 0;
};
FolderFiles
ListFolderFiles(const std::string & folder);

/** Groups files by Series Instance UID (non-DICOM files and files without one are left
 * out); series in UID order, files in the order given. */
std::vector<std::pair<std::string, std::vector<std::string>>>
GroupDicomSeries(const std::vector<std::string> & files);

/** Lists the Series Instance UIDs in a DICOM folder with their file names (empty if none). */
std::vector<std::pair<std::string, std::vector<std::string>>>
ListDicomSeries(const std::string & folder);

/** Checks that a file with `io`'s axes fits an image of `dimension` axes (extra axes of
 * size 1 only); throws nsa::InputError otherwise. For a series, the slice count is the
 * extra axis. */
void
CheckDimension(const ResolvedInput & input, unsigned int dimension, bool requireFullDimension);

/** Lower-case extension including compression suffix: ".nii.gz", ".nrrd", ".png", "". */
std::string
FullExtension(const std::string & path);

} // namespace detail
} // namespace nsa


namespace nsa
{
namespace detail
{

template <typename TImage>
void
CheckFinite(const TImage * image, const std::string & path)
{
  using PixelType = typename TImage::PixelType;
  using ComponentType = typename itk::NumericTraits<PixelType>::ValueType;
  if constexpr (std::is_floating_point<ComponentType>::value)
  {
    const auto   region = image->GetBufferedRegion();
    const size_t components = image->GetNumberOfComponentsPerPixel();
    const auto * buffer = reinterpret_cast<const ComponentType *>(image->GetBufferPointer());
    const size_t count = region.GetNumberOfPixels() * components;
    for (size_t i = 0; i < count; ++i)
    {
      if (!std::isfinite(buffer[i]))
      {
        const auto index = image->ComputeIndex(static_cast<typename TImage::OffsetValueType>(i / components));
        std::ostringstream message;
        message << "Cannot read '" << path << "': voxel " << index << " is " << buffer[i]
                << " (non-finite values are not accepted)";
        throw InputError(message.str());
      }
    }
  }
}

} // namespace detail

namespace detail
{

/** Copies a float volume into `TImage` (axes beyond the third get size 1; axes of the
 * volume beyond TImage's dimension must have size 1, see CheckDimension). */
template <typename TImage>
typename TImage::Pointer
ConvertFloatVolume(const itk::Image<float, 3> * volume)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  using ComponentType = typename itk::NumericTraits<typename TImage::PixelType>::ValueType;
  auto                            out = TImage::New();
  typename TImage::SizeType       size;
  typename TImage::SpacingType    spacing;
  typename TImage::PointType      origin;
  typename TImage::DirectionType  direction;
  direction.SetIdentity();
  for (unsigned int i = 0; i < Dimension; ++i)
  {
    size[i] = i < 3 ? volume->GetLargestPossibleRegion().GetSize()[i] : 1;
    spacing[i] = i < 3 ? volume->GetSpacing()[i] : 1.0;
    origin[i] = i < 3 ? volume->GetOrigin()[i] : 0.0;
    for (unsigned int j = 0; j < Dimension && i < 3; ++j)
    {
      if (j < 3)
      {
        direction(i, j) = volume->GetDirection()(i, j);
      }
    }
  }
  out->SetRegions(size);
  out->SetSpacing(spacing);
  out->SetOrigin(origin);
  out->SetDirection(direction);
  out->SetNumberOfComponentsPerPixel(1);
  out->Allocate();
  const size_t          count = out->GetLargestPossibleRegion().GetNumberOfPixels();
  const float *         in = volume->GetBufferPointer();
  ComponentType *       buffer = reinterpret_cast<ComponentType *>(out->GetBufferPointer());
  for (size_t i = 0; i < count; ++i)
  {
    buffer[i] = static_cast<ComponentType>(in[i]);
  }
  return out;
}

/** Reads the image of an input already resolved by ResolveInput (ReadImage's body). */
template <typename TImage>
typename TImage::Pointer
ReadResolvedImage(const ResolvedInput & input, const ReadImageOptions & options)
{
  const std::string & path = input.path;
  constexpr unsigned int Dimension = TImage::ImageDimension;
  CheckDimension(input, Dimension, options.requireFullDimension);
  if (input.derivedImage)
  {
    auto image = ConvertFloatVolume<TImage>(input.derivedImage.GetPointer());
    if (!options.allowNonFinite)
    {
      CheckFinite(image.GetPointer(), path);
    }
    return image;
  }

  if (input.nonFiniteVoxel >= 0)
  {
    // Refused even when non-finite values are allowed: ITK would return 0 in their place.
    std::ostringstream message;
    message << "Cannot read '" << path << "': voxel [";
    long long rest = input.nonFiniteVoxel;
    for (size_t axis = 0; axis < input.nonFiniteSize.size(); ++axis)
    {
      message << (axis ? ", " : "") << rest % input.nonFiniteSize[axis];
      rest /= input.nonFiniteSize[axis];
    }
    message << "] is " << input.nonFiniteValue
            << (options.allowNonFinite ? " (ITK's NIfTI reader would return 0 in its place; convert the file to "
                                         ".nrrd or .mha to keep non-finite values)"
                                       : " (non-finite values are not accepted)");
    throw InputError(message.str());
  }

  using PixelType = typename TImage::PixelType;
  constexpr bool scalarImage = std::is_arithmetic<PixelType>::value;
  if (scalarImage && input.io->GetNumberOfComponents() > 1)
  {
    const auto pixel = input.io->GetPixelType();
    if (pixel != itk::IOPixelEnum::RGB && pixel != itk::IOPixelEnum::RGBA)
    {
      throw InputError("Cannot read '" + path + "' as a scalar image: it has " +
                       std::to_string(input.io->GetNumberOfComponents()) + " components per voxel (" +
                       itk::ImageIOBase::GetPixelTypeAsString(pixel) + ")");
    }
  }

  typename TImage::Pointer image;
  try
  {
    if (input.isDicomSeries)
    {
      auto reader = itk::ImageSeriesReader<TImage>::New();
      reader->SetImageIO(itk::GDCMImageIO::New());
      // The slice spacing was checked in ResolveInput with a tolerance for decimal
      // rounding; ITK's exact comparison would warn about every real series.
      reader->SetSpacingWarningRelThreshold(0.02);
      reader->SetFileNames(input.files);
      reader->Update();
      image = reader->GetOutput();
    }
    else
    {
      auto reader = itk::ImageFileReader<TImage>::New();
      reader->SetImageIO(input.io);
      reader->SetFileName(input.files.front());
      reader->Update();
      image = reader->GetOutput();
    }
  }
  catch (const itk::ExceptionObject & error)
  {
    throw InputError("Cannot read '" + path + "': " + error.GetDescription());
  }
  image->DisconnectPipeline();
  if (input.multiFrame.valid && Dimension >= 3)
  {
    auto spacing = image->GetSpacing();
    auto origin = image->GetOrigin();
    auto direction = image->GetDirection();
    const auto & o = input.multiFrame.orientation;
    const double normal[3] = { o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3] };
    for (unsigned int i = 0; i < 3; ++i)
    {
      spacing[i] = input.multiFrame.spacing[i];
      if (input.multiFrame.hasPosition)
      {
        origin[i] = input.multiFrame.origin[i];
        direction(i, 0) = o[i];
        direction(i, 1) = o[3 + i];
        direction(i, 2) = normal[i];
      }
    }
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
  }
  if (!options.allowNonFinite)
  {
    CheckFinite(image.GetPointer(), path);
  }
  return image;
}

} // namespace detail

template <typename TImage>
typename TImage::Pointer
ReadImage(const std::string & path, const ReadImageOptions & options)
{
  return detail::ReadResolvedImage<TImage>(detail::ResolveInput(path, options.seriesInstanceUid), options);
}

template <typename TImage>
void
WriteImage(const TImage * image, const std::string & path, bool compress)
{
  if (image == nullptr)
  {
    throw OutputError("Cannot write '" + path + "': no image given");
  }
  const std::string extension = detail::FullExtension(path);
  if (!IsWritableImageExtension(path))
  {
    throw OutputError("Cannot write '" + path + "': unsupported extension '" + extension +
                      "' (use .nii.gz, .nii, .nrrd, .mha or .png)");
  }
  if (extension == ".png")
  {
    using ComponentType = typename itk::NumericTraits<typename TImage::PixelType>::ValueType;
    if (!std::is_same<ComponentType, unsigned char>::value)
    {
      throw OutputError("Cannot write '" + path + "' as PNG: the image is not 8-bit (write .nii.gz or .nrrd, "
                        "or cast to unsigned char first)");
    }
    const auto size = image->GetLargestPossibleRegion().GetSize();
    for (unsigned int axis = 2; axis < TImage::ImageDimension; ++axis)
    {
      if (size[axis] != 1)
      {
        throw OutputError("Cannot write '" + path + "' as PNG: the image is a volume (PNG holds one 2D slice)");
      }
    }
  }
  AtomicOutput output(path);
  try
  {
    auto writer = itk::ImageFileWriter<TImage>::New();
    writer->SetInput(image);
    writer->SetFileName(output.TemporaryPath());
    writer->SetUseCompression(compress);
    writer->Update();
  }
  catch (const itk::ExceptionObject & error)
  {
    throw OutputError("Cannot write '" + path + "': " + error.GetDescription());
  }
  output.Commit();
}

} // namespace nsa

#endif
