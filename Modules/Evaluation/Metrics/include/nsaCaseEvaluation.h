#ifndef nsaCaseEvaluation_h
#define nsaCaseEvaluation_h

#include "nsaRankMetrics.h"
#include "nsaScoreTable.h"

#include "itkImage.h"

#include <cstdint>
#include <string>

namespace nsa
{

/** \brief Settings of the voxel-level evaluation of one case (the same for the whole cohort). */
struct VoxelEvaluationOptions
{
  /** Score threshold for Dice and IoU: a voxel is predicted anomalous when score >= threshold
   * (default 0.5). */
  double threshold = 0.5;
  /** Connectivity of the ground-truth components used by AU-PRO: true (default) = full
   * connectivity (8 neighbours in 2D, 26 in 3D), as MVTec's evaluation labels regions with a
   * 3x3 structuring element of ones; false = face connectivity (4 / 6). */
  bool fullyConnected = true;
  /** Mantissa bits kept of each float32 score before it enters the score table (1-23;
   * default 23 = exact). Fewer bits round every score to the nearest value with that many
   * bits (ties to even; relative change at most 2^-(bits+1)) and cap the distinct values,
   * hence the table's memory, at about 2^bits per power of two of the score range. The
   * metrics are then exact for the rounded scores. Dice at the threshold uses the rounded
   * scores too; the case score (map mean) does not. */
  int scoreBits = 23;
};

/** `score` rounded to `bits` mantissa bits (ties to even); infinities unchanged. */
float
RoundScoreToBits(float score, int bits);

/** \brief What one case contributes to the cohort's voxel-level metrics. */
struct CaseVoxelResult
{
  ScoreTable<float> table;                 ///< scores of the evaluated voxels
  std::uint64_t     components{ 0 };       ///< ground-truth connected components (in the region)
  std::uint64_t     evaluatedVoxels{ 0 };  ///< voxels inside the region
  std::uint64_t     lesionVoxels{ 0 };     ///< ground-truth voxels inside the region
  ThresholdCounts   counts;                ///< TP/FP/FN/TN at the options' threshold
  double            meanScore{ 0 };        ///< mean of the whole map (the toolkit's case score)
  double            maxScore{ 0 };         ///< maximum of the map inside the region
  long              peakSlice{ 0 };        ///< last-axis index of the region's maximum score
  long              lesionSlice{ -1 };     ///< last-axis index with most lesion voxels, -1 if none
};

/** Evaluates one score map against its ground truth, voxel by voxel.
 *
 * `groundTruth`: nonzero = anomalous; nullptr = a normal case (no anomalous voxel).
 * `region`: nonzero = evaluated; nullptr = every voxel. Voxels outside the region count
 * nowhere (not as negatives, not in a component). Ground-truth components are those of the
 * ground truth restricted to the region. All images must share the score map's grid (size,
 * and origin, spacing and direction within GridTolerance / DirectionTolerance);
 * otherwise nsa::InputError names the two images (`names`: the map's, ground truth's and
 * region's names for messages). */
template <unsigned int VDimension>
CaseVoxelResult
EvaluateCaseVoxels(const itk::Image<float, VDimension> *         scoreMap,
                   const itk::Image<unsigned char, VDimension> * groundTruth,
                   const itk::Image<unsigned char, VDimension> * region,
                   const VoxelEvaluationOptions &                options,
                   const std::string &                           caseName = "case");

/** Origin and spacing of two images on the "same grid" may differ by this fraction of the
 * smallest voxel size: 1e-3, above the float32 rounding of NIfTI headers (about 1e-5 mm),
 * far below a shift that would move a voxel. */
constexpr double GridTolerance = 1e-3;
/** Direction cosines of two images on the "same grid" may differ by this much (NIfTI stores
 * the direction as a float32 quaternion). */
constexpr double DirectionTolerance = 1e-5;

/** Throws nsa::InputError unless `other` has `reference`'s size, origin, spacing and direction
 * (origin and spacing within GridTolerance of the smallest spacing, direction cosines within
 * DirectionTolerance). */
template <unsigned int VDimension>
void
CheckSameGrid(const itk::ImageBase<VDimension> * reference,
              const std::string &                referenceName,
              const itk::ImageBase<VDimension> * other,
              const std::string &                otherName);

extern template CaseVoxelResult
EvaluateCaseVoxels<2>(const itk::Image<float, 2> *, const itk::Image<unsigned char, 2> *,
                      const itk::Image<unsigned char, 2> *, const VoxelEvaluationOptions &, const std::string &);
extern template CaseVoxelResult
EvaluateCaseVoxels<3>(const itk::Image<float, 3> *, const itk::Image<unsigned char, 3> *,
                      const itk::Image<unsigned char, 3> *, const VoxelEvaluationOptions &, const std::string &);
extern template void
CheckSameGrid<2>(const itk::ImageBase<2> *, const std::string &, const itk::ImageBase<2> *, const std::string &);
extern template void
CheckSameGrid<3>(const itk::ImageBase<3> *, const std::string &, const itk::ImageBase<3> *, const std::string &);

} // namespace nsa

#endif
