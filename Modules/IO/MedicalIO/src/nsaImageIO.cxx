#include "nsaImageIO.hxx"

#include "nsaDicomHeaders.h"

#include "itkGDCMSeriesFileNames.h"
#include "itkImageIOFactory.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

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

std::vector<std::pair<std::string, std::vector<std::string>>>
ListDicomSeries(const std::string & folder)
{
  std::vector<std::pair<std::string, std::vector<std::string>>> series;
  auto names = itk::GDCMSeriesFileNames::New();
  // Group by Series Instance UID alone, so that the UIDs listed are the ones a user can pass.
  names->SetUseSeriesDetails(false);
  names->SetDirectory(folder);
  for (const auto & uid : names->GetSeriesUIDs())
  {
    series.emplace_back(uid, names->GetFileNames(uid));
  }
  return series;
}

ResolvedInput
ResolveInput(const std::string & path, const std::string & seriesInstanceUid)
{
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
    bool anyFile = false;
    for (const auto & entry : fs::directory_iterator(path, ec))
    {
      if (entry.is_regular_file())
      {
        anyFile = true;
        break;
      }
    }
    if (!anyFile)
    {
      throw InputError("Cannot read '" + path + "': the folder is empty");
    }
    const auto series = ListDicomSeries(path);
    if (series.empty())
    {
      throw InputError("Cannot read '" + path + "': the folder holds no DICOM image series");
    }
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
    std::vector<DicomSliceHeader> slices;
    for (const auto & file : chosen->second)
    {
      slices.push_back(ReadDicomSliceHeader(file));
    }
    input.sliceSpacing = SortAndCheckSeries(slices, path);
    input.isDicomSeries = true;
    input.seriesInstanceUid = chosen->first;
    for (const auto & slice : slices)
    {
      input.files.push_back(slice.file);
    }
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
  input.io = itk::ImageIOFactory::CreateImageIO(first.c_str(), itk::IOFileModeEnum::ReadMode);
  if (!input.io)
  {
    throw InputError("Cannot read '" + first + "': not an image format this toolkit reads, or a corrupt file");
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
  return input;
}

void
CheckDimension(const ResolvedInput & input, unsigned int dimension, bool requireFullDimension)
{
  std::vector<size_t> size;
  for (unsigned int axis = 0; axis < input.io->GetNumberOfDimensions(); ++axis)
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
  const auto &                io = input.io;
  info.dimension = io->GetNumberOfDimensions();
  info.components = io->GetNumberOfComponents();
  info.pixelType = itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  for (unsigned int axis = 0; axis < info.dimension; ++axis)
  {
    info.size.push_back(io->GetDimensions(axis));
    info.spacing.push_back(io->GetSpacing(axis));
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
