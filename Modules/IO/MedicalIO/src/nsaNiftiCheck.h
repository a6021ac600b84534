#ifndef nsaNiftiCheck_h
#define nsaNiftiCheck_h

// Private to the IO module's sources: the toolkit's own check of a NIfTI-1 / Analyze 7.5
// file before ITK reads it. ITK's reader (through the NIfTI library) silently repairs what
// it does not like: a negative or zero axis length becomes 1, NaN and infinite float voxels
// become 0, missing voxels of a short or truncated file become 0, and a non-finite pixdim or
// orientation reaches ITK's matrix code, which aborts the process. Refusing these here keeps
// every reader of the toolkit (programs and the Python package) honest.

#include <string>
#include <vector>

namespace nsa
{
namespace detail
{

/** What CheckNiftiFile found in the voxel data (the header itself is valid, or it throws). */
struct NiftiScan
{
  /** First voxel (linear index, x fastest) holding a NaN or an infinity, -1 if none (float
   * data types only; integer data cannot hold them). */
  long long firstNonFinite = -1;
  double    nonFiniteValue = 0.0;
  /** Axis lengths from the header (dim[1..dim[0]]). */
  std::vector<long long> size;
};

/** True when `path` starts like a NIfTI-1 or Analyze 7.5 header (sizeof_hdr 348, either byte
 * order; gzip-compressed or not). */
bool
LooksLikeNiftiHeader(const std::string & path);

/** Validates the header of the NIfTI-1 / Analyze file `path` (`.nii`, `.nii.gz`, or the `.hdr`
 * of a `.hdr`/`.img` pair) and scans its voxel data: refuses a header whose dim[0] is not 1..7,
 * an axis length below 1, an unknown data type, a non-finite pixdim of an image axis (or a
 * zero one of a spatial axis longer than one voxel), a
 * non-finite quaternion, offset or sform row that the header says to use, a non-finite or
 * negative vox_offset; refuses data shorter than the header says (compressed or not) and a
 * corrupt gzip stream. Throws nsa::InputError naming the file, the field and the value.
 * The voxel data are read once, in chunks (memory does not grow with the image). */
NiftiScan
CheckNiftiFile(const std::string & path);

} // namespace detail
} // namespace nsa

#endif
