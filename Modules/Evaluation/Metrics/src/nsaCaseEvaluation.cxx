#include "nsaCaseEvaluation.h"

#include "nsaError.h"

#include "itkConnectedComponentImageFilter.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>
#include <sstream>

namespace nsa
{

float
RoundScoreToBits(float score, int bits)
{
  if (bits >= 23 || !std::isfinite(score))
  {
    return score;
  }
  std::uint32_t pattern;
  std::memcpy(&pattern, &score, sizeof(pattern));
  const int           dropped = 23 - bits;
  const std::uint32_t half = (std::uint32_t{ 1 } << (dropped - 1)) - 1 + ((pattern >> dropped) & 1u);
  // A carry out of the mantissa moves to the next exponent, which is the correct rounding;
  // it can reach infinity only from the largest finite binade.
  pattern = (pattern + half) & ~((std::uint32_t{ 1 } << dropped) - 1);
  float rounded;
  std::memcpy(&rounded, &pattern, sizeof(rounded));
  return rounded;
}

template <unsigned int VDimension>
void
CheckSameGrid(const itk::ImageBase<VDimension> * reference,
              const std::string &                referenceName,
              const itk::ImageBase<VDimension> * other,
              const std::string &                otherName)
{
  const auto         referenceSize = reference->GetLargestPossibleRegion().GetSize();
  const auto         otherSize = other->GetLargestPossibleRegion().GetSize();
  std::ostringstream problem;
  if (referenceSize != otherSize)
  {
    problem << "size " << otherSize << " differs from " << referenceSize;
  }
  else
  {
    // A thousandth of the smallest voxel size: far below anything that would move a voxel,
    // yet above the float32 rounding of NIfTI headers (a map saved as NIfTI from a DICOM
    // study differs from the study's double-precision origin by about 1e-5 mm, which ITK's
    // default 1e-6 of the spacing refused).
    const auto & spacing = reference->GetSpacing();
    double       tolerance = std::numeric_limits<double>::max();
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      tolerance = std::min(tolerance, GridTolerance * std::abs(spacing[d]));
    }
    for (unsigned int d = 0; d < VDimension && problem.str().empty(); ++d)
    {
      if (std::abs(reference->GetOrigin()[d] - other->GetOrigin()[d]) > tolerance)
      {
        problem << "origin " << other->GetOrigin() << " differs from " << reference->GetOrigin();
      }
      else if (std::abs(spacing[d] - other->GetSpacing()[d]) > tolerance)
      {
        problem << "spacing " << other->GetSpacing() << " differs from " << spacing;
      }
      for (unsigned int e = 0; e < VDimension && problem.str().empty(); ++e)
      {
        if (std::abs(reference->GetDirection()[d][e] - other->GetDirection()[d][e]) > DirectionTolerance)
        {
          problem << "direction differs";
        }
      }
    }
  }
  if (!problem.str().empty())
  {
    throw InputError(otherName + " does not match the grid of " + referenceName + ": " + problem.str());
  }
}

template <unsigned int VDimension>
CaseVoxelResult
EvaluateCaseVoxels(const itk::Image<float, VDimension> *         scoreMap,
                   const itk::Image<unsigned char, VDimension> * groundTruth,
                   const itk::Image<unsigned char, VDimension> * region,
                   const VoxelEvaluationOptions &                options,
                   const std::string &                           caseName)
{
  using MaskType = itk::Image<unsigned char, VDimension>;
  using LabelType = itk::Image<std::uint32_t, VDimension>;
  if (scoreMap == nullptr)
  {
    throw InputError(caseName + ": no score map");
  }
  if (options.scoreBits < 1 || options.scoreBits > 23)
  {
    throw ParameterError("score bits must be in [1, 23], got " + std::to_string(options.scoreBits));
  }
  if (groundTruth != nullptr)
  {
    CheckSameGrid<VDimension>(scoreMap, caseName + " score map", groundTruth, caseName + " ground truth");
  }
  if (region != nullptr)
  {
    CheckSameGrid<VDimension>(scoreMap, caseName + " score map", region, caseName + " region mask");
  }
  const auto & bufferedRegion = scoreMap->GetBufferedRegion();
  if (bufferedRegion != scoreMap->GetLargestPossibleRegion())
  {
    throw InputError(caseName + ": the score map is not fully buffered");
  }
  const size_t  count = bufferedRegion.GetNumberOfPixels();
  const float * scores = scoreMap->GetBufferPointer();
  const size_t  sliceSize = count / std::max<size_t>(1, bufferedRegion.GetSize(VDimension - 1));

  CaseVoxelResult result;
  // Ground truth restricted to the region, labelled into components.
  std::vector<std::uint64_t> componentSizes;
  const std::uint32_t *      labels = nullptr;
  typename LabelType::Pointer labelImage;
  if (groundTruth != nullptr)
  {
    auto restricted = MaskType::New();
    restricted->CopyInformation(groundTruth);
    restricted->SetRegions(bufferedRegion);
    restricted->Allocate();
    const unsigned char * truth = groundTruth->GetBufferPointer();
    const unsigned char * inside = region != nullptr ? region->GetBufferPointer() : nullptr;
    unsigned char *       out = restricted->GetBufferPointer();
    for (size_t i = 0; i < count; ++i)
    {
      out[i] = (truth[i] != 0 && (inside == nullptr || inside[i] != 0)) ? 1 : 0;
    }
    using ComponentFilter = itk::ConnectedComponentImageFilter<MaskType, LabelType>;
    auto components = ComponentFilter::New();
    components->SetInput(restricted);
    components->SetFullyConnected(options.fullyConnected);
    components->SetBackgroundValue(0);
    components->Update();
    labelImage = components->GetOutput();
    labels = labelImage->GetBufferPointer();
    result.components = components->GetObjectCount();
    componentSizes.assign(result.components + 1, 0);
    for (size_t i = 0; i < count; ++i)
    {
      if (labels[i] > result.components)
      {
        throw Error(caseName + ": connected component labels are not consecutive");
      }
      ++componentSizes[labels[i]];
    }
  }

  std::vector<std::uint64_t> perVoxelWeight(componentSizes.size(), 0);
  for (size_t c = 1; c < componentSizes.size(); ++c)
  {
    perVoxelWeight[c] = ProWeight::PerVoxel(componentSizes[c]);
  }

  const unsigned char *                            inside = region != nullptr ? region->GetBufferPointer() : nullptr;
  std::vector<float>                               negatives;
  std::vector<std::pair<float, std::uint64_t>>     positives;
  std::vector<std::uint64_t>                       lesionPerSlice(bufferedRegion.GetSize(VDimension - 1), 0);
  long double                                      sum = 0;
  double                                           maxScore = -std::numeric_limits<double>::infinity();
  size_t                                           peak = 0;
  negatives.reserve(count);
  for (size_t i = 0; i < count; ++i)
  {
    const float score = scores[i];
    if (std::isnan(score))
    {
      std::ostringstream message;
      message << caseName << ": the score map has a NaN at voxel " << scoreMap->ComputeIndex(static_cast<long>(i));
      throw InputError(message.str());
    }
    sum += score;
    if (inside != nullptr && inside[i] == 0)
    {
      continue;
    }
    ++result.evaluatedVoxels;
    if (score > maxScore)
    {
      maxScore = score;
      peak = i;
    }
    const float tabled = RoundScoreToBits(score, options.scoreBits);
    const bool lesion = labels != nullptr && labels[i] != 0;
    if (lesion)
    {
      positives.emplace_back(tabled, perVoxelWeight[labels[i]]);
      ++lesionPerSlice[i / sliceSize];
      if (tabled >= options.threshold)
      {
        ++result.counts.truePositives;
      }
      else
      {
        ++result.counts.falseNegatives;
      }
    }
    else
    {
      negatives.push_back(tabled);
      if (tabled >= options.threshold)
      {
        ++result.counts.falsePositives;
      }
      else
      {
        ++result.counts.trueNegatives;
      }
    }
  }
  if (result.evaluatedVoxels == 0)
  {
    throw InputError(caseName + ": the region mask selects no voxel");
  }
  result.lesionVoxels = positives.size();
  result.meanScore = static_cast<double>(sum / static_cast<long double>(count));
  result.maxScore = maxScore;
  result.peakSlice = static_cast<long>(peak / sliceSize);
  if (result.lesionVoxels > 0)
  {
    result.lesionSlice = static_cast<long>(std::max_element(lesionPerSlice.begin(), lesionPerSlice.end()) -
                                           lesionPerSlice.begin());
  }
  result.table = ScoreTable<float>::FromSamples(std::move(negatives), std::move(positives));
  return result;
}

template CaseVoxelResult
EvaluateCaseVoxels<2>(const itk::Image<float, 2> *, const itk::Image<unsigned char, 2> *,
                      const itk::Image<unsigned char, 2> *, const VoxelEvaluationOptions &, const std::string &);
template CaseVoxelResult
EvaluateCaseVoxels<3>(const itk::Image<float, 3> *, const itk::Image<unsigned char, 3> *,
                      const itk::Image<unsigned char, 3> *, const VoxelEvaluationOptions &, const std::string &);
template void
CheckSameGrid<2>(const itk::ImageBase<2> *, const std::string &, const itk::ImageBase<2> *, const std::string &);
template void
CheckSameGrid<3>(const itk::ImageBase<3> *, const std::string &, const itk::ImageBase<3> *, const std::string &);

} // namespace nsa
