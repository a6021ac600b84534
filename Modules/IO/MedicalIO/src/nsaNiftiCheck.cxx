#include "nsaNiftiCheck.h"

#include "nsaError.h"

#include "nifti1.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <vector>

#include <zlib.h>

namespace fs = std::filesystem;

namespace nsa
{
namespace detail
{

namespace
{

static_assert(sizeof(nifti_1_header) == 348, "nifti_1_header must be the 348-byte NIfTI-1 header");

/** A gzip or plain file read through zlib (gzread passes plain files through unchanged). */
class GzStream
{
public:
  explicit GzStream(const std::string & path)
    : m_Path(path)
    , m_File(gzopen(path.c_str(), "rb"))
  {
    if (m_File == nullptr)
    {
      throw InputError("Cannot read '" + path + "': the file cannot be opened");
    }
  }
  ~GzStream()
  {
    if (m_File != nullptr)
    {
      gzclose_r(m_File);
    }
  }
  GzStream(const GzStream &) = delete;
  GzStream & operator=(const GzStream &) = delete;

  bool
  Compressed()
  {
    return gzdirect(m_File) == 0;
  }

  /** Reads up to `count` bytes; returns how many were read (fewer only at the end of the
   * data). Throws when the compressed stream is corrupt. */
  size_t
  Read(void * buffer, size_t count)
  {
    size_t done = 0;
    while (done < count)
    {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(count - done, 1u << 30));
      const int      got = gzread(m_File, static_cast<char *>(buffer) + done, chunk);
      if (got < 0)
      {
        Corrupt();
      }
      if (got == 0)
      {
        break;
      }
      done += static_cast<size_t>(got);
    }
    return done;
  }

  /** Reads the rest of a compressed stream so that zlib verifies its length and CRC. */
  void
  CheckToEnd()
  {
    if (!Compressed())
    {
      return;
    }
    std::vector<char> buffer(1 << 20);
    while (Read(buffer.data(), buffer.size()) == buffer.size())
    {
    }
    const int closed = gzclose_r(m_File);
    m_File = nullptr;
    if (closed != Z_OK)
    {
      throw InputError("Cannot read '" + m_Path + "': the compressed data are truncated or corrupt");
    }
  }

private:
  [[noreturn]] void
  Corrupt()
  {
    int         error = Z_OK;
    const char * message = gzerror(m_File, &error);
    throw InputError("Cannot read '" + m_Path + "': the compressed data are truncated or corrupt" +
                     (message != nullptr && *message != '\0' ? std::string(" (") + message + ")" : std::string()));
  }

  std::string m_Path;
  gzFile      m_File;
};

template <typename T>
void
Swap(T & value)
{
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  std::reverse(bytes, bytes + sizeof(T));
  std::memcpy(&value, bytes, sizeof(T));
}

void
SwapHeader(nifti_1_header & h)
{
  Swap(h.sizeof_hdr);
  for (short & d : h.dim)
  {
    Swap(d);
  }
  Swap(h.datatype);
  Swap(h.bitpix);
  for (float & p : h.pixdim)
  {
    Swap(p);
  }
  Swap(h.vox_offset);
  Swap(h.scl_slope);
  Swap(h.scl_inter);
  Swap(h.qform_code);
  Swap(h.sform_code);
  for (float * f : { &h.quatern_b, &h.quatern_c, &h.quatern_d, &h.qoffset_x, &h.qoffset_y, &h.qoffset_z })
  {
    Swap(*f);
  }
  for (float * row : { h.srow_x, h.srow_y, h.srow_z })
  {
    for (int i = 0; i < 4; ++i)
    {
      Swap(row[i]);
    }
  }
}

/** Bytes per voxel of a NIfTI data type, 0 when unknown. */
int
BytesPerVoxel(short datatype)
{
  switch (datatype)
  {
    case NIFTI_TYPE_UINT8:
    case NIFTI_TYPE_INT8:
      return 1;
    case NIFTI_TYPE_INT16:
    case NIFTI_TYPE_UINT16:
      return 2;
    case NIFTI_TYPE_RGB24:
      return 3;
    case NIFTI_TYPE_INT32:
    case NIFTI_TYPE_UINT32:
    case NIFTI_TYPE_FLOAT32:
    case NIFTI_TYPE_RGBA32:
      return 4;
    case NIFTI_TYPE_INT64:
    case NIFTI_TYPE_UINT64:
    case NIFTI_TYPE_FLOAT64:
    case NIFTI_TYPE_COMPLEX64:
      return 8;
    case NIFTI_TYPE_FLOAT128:
    case NIFTI_TYPE_COMPLEX128:
      return 16;
    case NIFTI_TYPE_COMPLEX256:
      return 32;
    default:
      return 0;
  }
}

/** The other file of a .hdr/.img pair: for a header, the .img (or .img.gz) beside it; for
 * an image file, the .hdr (or .hdr.gz). Empty when there is none. */
std::string
PairedFile(const std::string & file, bool wantHeader)
{
  std::string base = file;
  auto        endsWith = [&base](const std::string & suffix) {
    if (base.size() < suffix.size())
    {
      return false;
    }
    std::string tail = base.substr(base.size() - suffix.size());
    std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
    return tail == suffix;
  };
  if (endsWith(".gz"))
  {
    base.resize(base.size() - 3);
  }
  if (endsWith(".hdr") || endsWith(".img"))
  {
    base.resize(base.size() - 4);
  }
  std::error_code ec;
  const std::vector<const char *> suffixes = wantHeader ? std::vector<const char *>{ ".hdr", ".hdr.gz", ".HDR", ".HDR.GZ" }
                                                        : std::vector<const char *>{ ".img", ".img.gz", ".IMG", ".IMG.GZ" };
  for (const char * suffix : suffixes)
  {
    if (fs::is_regular_file(base + suffix, ec))
    {
      return base + suffix;
    }
  }
  return std::string();
}

std::string
Describe(double value)
{
  std::ostringstream text;
  text << value;
  return text.str();
}

} // namespace

bool
LooksLikeNiftiHeader(const std::string & path)
{
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr)
  {
    return false;
  }
  int        size = 0;
  const bool complete = gzread(file, &size, sizeof(size)) == static_cast<int>(sizeof(size));
  gzclose_r(file);
  int swapped = size;
  Swap(swapped);
  return complete && (size == 348 || swapped == 348);
}

namespace
{

/** The header of `path` in native byte order; `swapped` says whether it was stored in the
 * other one. */
nifti_1_header
ReadHeader(GzStream & header, const std::string & where, bool & swapped)
{
  nifti_1_header h;
  if (header.Read(&h, sizeof(h)) != sizeof(h))
  {
    throw InputError(where + "the NIfTI header is incomplete (fewer than 348 bytes)");
  }
  swapped = false;
  if (h.sizeof_hdr != 348)
  {
    SwapHeader(h);
    swapped = true;
    if (h.sizeof_hdr != 348)
    {
      throw InputError(where + "not a NIfTI-1 header (sizeof_hdr is not 348 in either byte order)");
    }
  }
  return h;
}

/** The image size from dim[], checked: 1 to 7 axes of at least one voxel each. */
std::vector<long long>
CheckedSize(const nifti_1_header & h, const std::string & where)
{
  if (h.dim[0] < 1 || h.dim[0] > 7)
  {
    throw InputError(where + "dim[0] is " + std::to_string(h.dim[0]) + "; a NIfTI image has 1 to 7 axes");
  }
  std::vector<long long> size;
  for (int axis = 1; axis <= h.dim[0]; ++axis)
  {
    if (h.dim[axis] < 1)
    {
      throw InputError(where + "axis " + std::to_string(axis - 1) + " has " + std::to_string(h.dim[axis]) +
                       " voxels (dim[" + std::to_string(axis) + "]); every axis needs at least one");
    }
    size.push_back(h.dim[axis]);
  }
  return size;
}

/** Spacing, qform, sform and vox_offset: finite, and no zero spacing along a spatial axis of
 * more than one voxel (the NIfTI library makes it 1 mm without a word; axes of one voxel and
 * time axes may carry 0). */
void
CheckGeometryFields(const nifti_1_header & h, bool isNifti, const std::string & where)
{
  for (int axis = 1; axis <= h.dim[0]; ++axis)
  {
    if (!std::isfinite(h.pixdim[axis]))
    {
      throw InputError(where + "the voxel spacing pixdim[" + std::to_string(axis) + "] is " +
                       Describe(h.pixdim[axis]) + " (not a finite number)");
    }
    if (axis <= 3 && h.pixdim[axis] == 0.0f && h.dim[axis] > 1)
    {
      throw InputError(where + "the voxel spacing pixdim[" + std::to_string(axis) + "] is 0 along an axis of " +
                       std::to_string(h.dim[axis]) + " voxels");
    }
  }
  if (isNifti && h.qform_code > 0)
  {
    const float values[] = { h.pixdim[0], h.quatern_b, h.quatern_c, h.quatern_d, h.qoffset_x, h.qoffset_y, h.qoffset_z };
    const char * names[] = { "pixdim[0] (qfac)", "quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z" };
    for (int i = 0; i < 7; ++i)
    {
      if (!std::isfinite(values[i]))
      {
        throw InputError(where + "the qform field " + names[i] + " is " + Describe(values[i]) +
                         " (not a finite number)");
      }
    }
  }
  if (isNifti && h.sform_code > 0)
  {
    const float * rows[] = { h.srow_x, h.srow_y, h.srow_z };
    const char *  names[] = { "srow_x", "srow_y", "srow_z" };
    for (int r = 0; r < 3; ++r)
    {
      for (int c = 0; c < 4; ++c)
      {
        if (!std::isfinite(rows[r][c]))
        {
          throw InputError(where + "the sform field " + names[r] + "[" + std::to_string(c) + "] is " +
                           Describe(rows[r][c]) + " (not a finite number)");
        }
      }
    }
  }
  if (!std::isfinite(h.vox_offset) || h.vox_offset < 0.0f ||
      h.vox_offset > static_cast<float>(std::numeric_limits<int>::max() / 2))
  {
    throw InputError(where + "vox_offset is " + Describe(h.vox_offset) +
                     " (expected a byte offset from 0 to 2^30)");
  }
}

/** The number of bytes of voxel data the header promises, checked without overflow. */
unsigned long long
ExpectedDataBytes(const std::vector<long long> & size, int bytesPerVoxel, const std::string & where)
{
  unsigned long long voxels = 1;
  for (const long long length : size)
  {
    if (voxels > (1ull << 62) / static_cast<unsigned long long>(length))
    {
      throw InputError(where + "the header describes more than 2^62 voxels");
    }
    voxels *= static_cast<unsigned long long>(length);
  }
  if (voxels > (1ull << 62) / static_cast<unsigned long long>(bytesPerVoxel))
  {
    throw InputError(where + "the header describes more than 2^62 bytes of voxel data");
  }
  return voxels * static_cast<unsigned long long>(bytesPerVoxel);
}

/** Reads and drops `skip` bytes: the way to the voxel data. */
void
Skip(GzStream & data, long long skip, std::vector<unsigned char> & buffer, const nifti_1_header & h,
     const std::string & where)
{
  while (skip > 0)
  {
    const size_t want = static_cast<size_t>(std::min<long long>(skip, static_cast<long long>(buffer.size())));
    if (data.Read(buffer.data(), want) != want)
    {
      throw InputError(where + "the file ends before its voxel data (vox_offset " + Describe(h.vox_offset) + ")");
    }
    skip -= static_cast<long long>(want);
  }
}

/** The index of the first NaN or infinite value among the `got` bytes of `buffer` (which
 * start at byte `done` of the voxel data), or -1; `value` receives it. */
long long
FirstNonFinite(const std::vector<unsigned char> & buffer, size_t got, unsigned long long done, bool floats,
               bool swapped, int bytesPerVoxel, double & value)
{
  const int valueBytes = floats ? 4 : 8;
  for (size_t i = 0; i + valueBytes <= got; i += valueBytes)
  {
    if (floats)
    {
      float v;
      std::memcpy(&v, buffer.data() + i, 4);
      if (swapped)
      {
        Swap(v);
      }
      value = v;
    }
    else
    {
      double v;
      std::memcpy(&v, buffer.data() + i, 8);
      if (swapped)
      {
        Swap(v);
      }
      value = v;
    }
    if (!std::isfinite(value))
    {
      return static_cast<long long>((done + i) / static_cast<unsigned long long>(bytesPerVoxel));
    }
  }
  return -1;
}

/** Reads all `expected` bytes of voxel data, scanning float data for NaN and infinities
 * (which the NIfTI library turns into 0); a short file is an error naming both counts. */
void
ScanVoxelData(GzStream &                   data,
              std::vector<unsigned char> & buffer,
              unsigned long long           expected,
              const nifti_1_header &       h,
              bool                         swapped,
              int                          bytesPerVoxel,
              const std::string &          where,
              const std::string &          dataFileNote,
              NiftiScan &                  scan)
{
  const bool floats = h.datatype == NIFTI_TYPE_FLOAT32 || h.datatype == NIFTI_TYPE_COMPLEX64;
  const bool doubles = h.datatype == NIFTI_TYPE_FLOAT64 || h.datatype == NIFTI_TYPE_COMPLEX128;
  unsigned long long done = 0;
  while (done < expected)
  {
    // Chunks hold whole values so that a value never straddles two reads.
    const size_t want = static_cast<size_t>(std::min<unsigned long long>(expected - done, buffer.size()));
    const size_t got = data.Read(buffer.data(), want);
    if (scan.firstNonFinite < 0 && (floats || doubles))
    {
      double value = 0.0;
      const long long index = FirstNonFinite(buffer, got, done, floats, swapped, bytesPerVoxel, value);
      if (index >= 0)
      {
        scan.firstNonFinite = index;
        scan.nonFiniteValue = value;
      }
    }
    done += got;
    if (got < want)
    {
      std::ostringstream message;
      message << where << dataFileNote << "holds " << done << " bytes of voxel data where the header describes "
              << expected << " (";
      for (size_t axis = 0; axis < scan.size.size(); ++axis)
      {
        message << (axis ? " x " : "") << scan.size[axis];
      }
      message << " voxels of " << bytesPerVoxel << " bytes): the file is truncated";
      throw InputError(message.str());
    }
  }
}

} // namespace

NiftiScan
CheckNiftiFile(const std::string & given)
{
  // The .img of a pair names its image; the header is the .hdr beside it.
  std::string path = given;
  if (!LooksLikeNiftiHeader(given))
  {
    path = PairedFile(given, true);
    if (path.empty())
    {
      throw InputError("Cannot read '" + given + "': not a NIfTI-1 header (sizeof_hdr is not 348), and no .hdr beside it");
    }
  }
  const std::string    where = "Cannot read '" + given + "': ";
  GzStream             header(path);
  bool                 swapped = false;
  const nifti_1_header h = ReadHeader(header, where, swapped);
  const bool           singleFile = std::memcmp(h.magic, "n+1", 4) == 0;
  const bool           isNifti = singleFile || std::memcmp(h.magic, "ni1", 4) == 0;

  NiftiScan scan;
  scan.size = CheckedSize(h, where);
  const int bytesPerVoxel = BytesPerVoxel(h.datatype);
  if (bytesPerVoxel == 0)
  {
    throw InputError(where + "datatype " + std::to_string(h.datatype) + " is not a NIfTI data type this toolkit reads");
  }
  CheckGeometryFields(h, isNifti, where);
  const unsigned long long expected = ExpectedDataBytes(scan.size, bytesPerVoxel, where);

  // Where the data are: after the header in a .nii (at least byte 348, as the NIfTI library
  // reads it), at vox_offset of the .img of a pair.
  std::string dataPath = path;
  long long   offset = static_cast<long long>(h.vox_offset);
  if (singleFile)
  {
    offset = std::max<long long>(offset, 348);
  }
  else
  {
    dataPath = PairedFile(path, false);
    if (dataPath.empty())
    {
      throw InputError(where + "the header of a .hdr/.img pair has no .img (or .img.gz) beside it");
    }
  }
  std::unique_ptr<GzStream> separate;
  if (dataPath != path)
  {
    separate = std::make_unique<GzStream>(dataPath);
  }
  GzStream &                 data = separate ? *separate : header;
  std::vector<unsigned char> buffer(1 << 20);
  Skip(data, dataPath == path ? offset - static_cast<long long>(sizeof(h)) : offset, buffer, h, where);
  ScanVoxelData(data, buffer, expected, h, swapped, bytesPerVoxel, where,
                dataPath == path ? std::string() : "its data file '" + dataPath + "' ", scan);
  data.CheckToEnd();
  if (&data != &header)
  {
    header.CheckToEnd();
  }
  return scan;
}

} // namespace detail
} // namespace nsa
