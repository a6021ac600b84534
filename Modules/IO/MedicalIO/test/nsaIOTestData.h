#ifndef nsaIOTestData_h
#define nsaIOTestData_h

// Test inputs of the IO module built in code (with DCMTK): a small CT series with known
// stored values, rescale and oblique geometry. No package ships a CT series, so the HU
// rescale and the DICOM writers' references are tested on this one.

#include "itkImage.h"

#include <string>
#include <vector>

namespace nsa
{
namespace test
{

struct CtSeriesSpec
{
  unsigned int columns = 12;
  unsigned int rows = 10;
  unsigned int slices = 6;
  double       pixelSpacing[2] = { 0.8, 0.9 }; // row spacing (y), column spacing (x), as DICOM orders them
  double       sliceSpacing = 2.5;
  double       origin[3] = { -20.0, 15.5, 100.0 };
  bool         oblique = true;       ///< rotate the slice plane 20 degrees about the x axis
  double       rescaleSlope = 1.0;
  double       rescaleIntercept = -1024.0;
  int          skipSlice = -1;       ///< do not write this slice (a missing slice)
  double       extraGapAfterSlice = 0.0; ///< shift the slices after slice 0 by this (mm): non-uniform spacing
  double       shearPerSlice = 0.0;      ///< in-plane shift along the rows per slice (mm): gantry tilt
  std::string  seriesInstanceUid;    ///< empty: a new UID
  std::string  studyInstanceUid;     ///< empty: a new UID
  std::string  filePrefix = "ct";
};

/** Stored value of voxel (x, y, z) in the synthetic series (before rescale). */
unsigned short
CtStoredValue(unsigned int x, unsigned int y, unsigned int z);

/** Writes the series as single-frame CT Image Storage files into `folder` (created),
 * slice files in reverse order of position so that readers must sort. Returns the files. */
std::vector<std::string>
WriteCtSeries(const std::string & folder, const CtSeriesSpec & spec);

/** Writes all slices of `spec` as the frames of one multi-frame file (Secondary Capture
 * style: Number of Frames, first slice's position, Spacing Between Slices). */
void
WriteMultiFrameCt(const std::string & file, const CtSeriesSpec & spec);

/** Expected geometry of the series as an ITK image (no pixels allocated). */
itk::Image<float, 3>::Pointer
CtSeriesGeometry(const CtSeriesSpec & spec);

/** A fresh folder under the test output folder (emptied if it exists). */
std::string
FreshFolder(const std::string & name);

/** Output file path under the test output folder (the folder is created). */
std::string
OutputPath(const std::string & name);

} // namespace test
} // namespace nsa

#endif
