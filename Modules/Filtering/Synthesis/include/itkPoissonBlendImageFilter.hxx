#ifndef itkPoissonBlendImageFilter_hxx
#define itkPoissonBlendImageFilter_hxx

#include "itkPoissonBlendImageFilter.h"

#include "itkImageAlgorithm.h"
#include "nsaPoissonSolver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace itk
{

namespace PoissonBlendDetail
{
/** Calls function(index of the row's first voxel, row number) for every line along x of the
 * region, in buffer order. Always inlined: the caller's locals that the row function
 * captures must stay in registers (called through the closure, each capture is reloaded
 * after every store, and the assembly took 13 % longer; NSAPoissonBlendBenchmark). */
template <typename TRegion, typename TFunction>
#if defined(__GNUC__)
__attribute__((always_inline)) inline
#endif
void
ForEachRow(const TRegion & region, TFunction && function)
{
  constexpr unsigned int dimension = TRegion::ImageDimension;
  auto                   index = region.GetIndex();
  const auto             start = region.GetIndex();
  const auto             size = region.GetSize();
  const SizeValueType    rows = region.GetNumberOfPixels() / size[0];
  for (SizeValueType row = 0; row < rows; ++row)
  {
    function(index, row);
    for (unsigned int i = 1; i < dimension; ++i)
    {
      if (++index[i] < start[i] + static_cast<IndexValueType>(size[i]))
      {
        break;
      }
      index[i] = start[i];
    }
  }
}
} // namespace PoissonBlendDetail

template <typename TImage, typename TMaskImage>
PoissonBlendImageFilter<TImage, TMaskImage>::PoissonBlendImageFilter()
  : m_OutputMinimum(NumericTraits<float>::NonpositiveMin())
  , m_OutputMaximum(NumericTraits<float>::max())
{
  this->SetPrimaryInputName("DestinationImage");
  this->AddRequiredInputName("SourceImage");
  this->AddRequiredInputName("MaskImage");
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_ClampOutput && !(m_OutputMinimum <= m_OutputMaximum))
  {
    itkExceptionMacro("ClampOutput: OutputMinimum (" << m_OutputMinimum << ") must not exceed OutputMaximum ("
                                                     << m_OutputMaximum << ") and both must be numbers");
  }
  if (!(m_RelativeTolerance > 0.0 && m_RelativeTolerance < 1.0))
  {
    itkExceptionMacro("RelativeTolerance must lie in (0, 1), got " << m_RelativeTolerance);
  }
  if (m_MaximumNumberOfIterations == 0)
  {
    itkExceptionMacro("MaximumNumberOfIterations must be at least 1");
  }
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::VerifyInputInformation() ITKv5_CONST
{
  // Origin, spacing and direction of all three inputs must agree (superclass).
  Superclass::VerifyInputInformation();

  const ImageType *     destination = this->GetDestinationImage();
  const ImageType *     source = this->GetSourceImage();
  const MaskImageType * mask = this->GetMaskImage();
  const auto &          region = destination->GetLargestPossibleRegion();
  if (source->GetLargestPossibleRegion() != region)
  {
    itkExceptionMacro("SourceImage must lie on the destination grid: its largest possible region is "
                      << source->GetLargestPossibleRegion().GetIndex() << " + "
                      << source->GetLargestPossibleRegion().GetSize() << ", the DestinationImage's is "
                      << region.GetIndex() << " + " << region.GetSize());
  }
  if (mask->GetLargestPossibleRegion().GetIndex() != region.GetIndex() ||
      mask->GetLargestPossibleRegion().GetSize() != region.GetSize())
  {
    itkExceptionMacro("MaskImage must lie on the destination grid: its largest possible region is "
                      << mask->GetLargestPossibleRegion().GetIndex() << " + "
                      << mask->GetLargestPossibleRegion().GetSize() << ", the DestinationImage's is "
                      << region.GetIndex() << " + " << region.GetSize());
  }
  if (source->GetNumberOfComponentsPerPixel() != destination->GetNumberOfComponentsPerPixel())
  {
    itkExceptionMacro("SourceImage has " << source->GetNumberOfComponentsPerPixel()
                                         << " components per pixel, the DestinationImage "
                                         << destination->GetNumberOfComponentsPerPixel());
  }
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::GenerateInputRequestedRegion()
{
  Superclass::GenerateInputRequestedRegion();
  if (auto * destination = const_cast<ImageType *>(this->GetDestinationImage()))
  {
    destination->SetRequestedRegionToLargestPossibleRegion();
  }
  if (auto * source = const_cast<ImageType *>(this->GetSourceImage()))
  {
    source->SetRequestedRegionToLargestPossibleRegion();
  }
  if (auto * mask = const_cast<MaskImageType *>(this->GetMaskImage()))
  {
    mask->SetRequestedRegionToLargestPossibleRegion();
  }
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::EnlargeOutputRequestedRegion(DataObject * output)
{
  Superclass::EnlargeOutputRequestedRegion(output);
  output->SetRequestedRegionToLargestPossibleRegion();
}

template <typename TImage, typename TMaskImage>
auto
PoissonBlendImageFilter<TImage, TMaskImage>::MaskBoundingBox(const RegionType & imageRegion) const -> RegionType
{
  // Row by row on the raw buffer.
  using MaskPixelType = typename MaskImageType::PixelType;
  IndexType lower;
  IndexType upper;
  lower.Fill(NumericTraits<IndexValueType>::max());
  upper.Fill(NumericTraits<IndexValueType>::NonpositiveMin());
  SizeValueType         maskCount = 0;
  const MaskPixelType * maskBuffer = this->GetMaskImage()->GetBufferPointer();
  const SizeValueType   rowLength = imageRegion.GetSize(0);
  PoissonBlendDetail::ForEachRow(imageRegion, [&](const IndexType & rowIndex, SizeValueType row) {
    const MaskPixelType * begin = maskBuffer + row * rowLength;
    const MaskPixelType * end = begin + rowLength;
    const auto            isSet = [](MaskPixelType v) { return v != NumericTraits<MaskPixelType>::ZeroValue(); };
    // Most rows are empty: an OR over the row (vectorised) rejects them cheaply.
    if constexpr (std::is_integral<MaskPixelType>::value)
    {
      MaskPixelType any{};
      for (const MaskPixelType * v = begin; v != end; ++v)
      {
        any |= *v;
      }
      if (any == 0)
      {
        return;
      }
    }
    const MaskPixelType * first = std::find_if(begin, end, isSet);
    if (first == end)
    {
      return;
    }
    const MaskPixelType * last = end - 1;
    while (!isSet(*last))
    {
      --last;
    }
    ++maskCount;
    lower[0] = std::min(lower[0], rowIndex[0] + static_cast<IndexValueType>(first - begin));
    upper[0] = std::max(upper[0], rowIndex[0] + static_cast<IndexValueType>(last - begin));
    for (unsigned int i = 1; i < ImageDimension; ++i)
    {
      lower[i] = std::min(lower[i], rowIndex[i]);
      upper[i] = std::max(upper[i], rowIndex[i]);
    }
  });
  if (maskCount == 0)
  {
    itkExceptionMacro("MaskImage has no non-zero voxel: there is no region to blend");
  }
  SizeType size;
  for (unsigned int i = 0; i < ImageDimension; ++i)
  {
    size[i] = static_cast<SizeValueType>(upper[i] - lower[i] + 1);
  }
  return RegionType(lower, size);
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::VerifyMarginAroundMask(const RegionType & box,
                                                                    const RegionType & imageRegion) const
{
  const IndexType lower = box.GetIndex();
  const IndexType upper = box.GetUpperIndex();
  const IndexType imageLower = imageRegion.GetIndex();
  const IndexType imageUpper = imageRegion.GetUpperIndex();
  for (unsigned int i = 0; i < ImageDimension; ++i)
  {
    if (lower[i] <= imageLower[i] || upper[i] >= imageUpper[i])
    {
      itkExceptionMacro("MaskImage touches the image border along axis "
                        << i << " (mask voxels span index " << lower[i] << " to " << upper[i] << ", the image "
                        << imageLower[i] << " to " << imageUpper[i]
                        << "); Poisson blending takes its boundary values from a one-voxel margin of destination "
                           "voxels around the mask");
    }
  }
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::VerifyFiniteValues(const RegionType & paddedRegion) const
{
  const ImageType *         destination = this->GetDestinationImage();
  const unsigned int        components = destination->GetNumberOfComponentsPerPixel();
  const InternalPixelType * destinationBuffer = destination->GetBufferPointer();
  const InternalPixelType * sourceBuffer = this->GetSourceImage()->GetBufferPointer();
  const SizeType            paddedSize = paddedRegion.GetSize();
  PoissonBlendDetail::ForEachRow(paddedRegion, [&](const IndexType & rowIndex, SizeValueType) {
    const OffsetValueType offset = destination->ComputeOffset(rowIndex);
    const size_t          length = paddedSize[0] * components;
    for (const InternalPixelType * buffer : { destinationBuffer, sourceBuffer })
    {
      const InternalPixelType * row = buffer + offset * components;
      bool                      finite = true;
      for (size_t j = 0; j < length; ++j)
      {
        finite = finite && std::isfinite(static_cast<double>(row[j]));
      }
      if (!finite)
      {
        const size_t bad = static_cast<size_t>(
          std::find_if(row, row + length, [](InternalPixelType v) { return !std::isfinite(static_cast<double>(v)); }) -
          row);
        IndexType index = rowIndex;
        index[0] += static_cast<IndexValueType>(bad / components);
        itkExceptionMacro("" << (buffer == destinationBuffer ? "DestinationImage" : "SourceImage")
                             << " has a non-finite value (" << row[bad] << ") at index " << index << ", component "
                             << bad % components
                             << ", which the Poisson solve would read (the mask's bounding box grown by one voxel)");
      }
    }
  });
}

template <typename TImage, typename TMaskImage>
std::vector<double>
PoissonBlendImageFilter<TImage, TMaskImage>::LaplacianWeights() const
{
  std::vector<double> weights(ImageDimension, 1.0);
  if (m_UseImageSpacing)
  {
    for (unsigned int i = 0; i < ImageDimension; ++i)
    {
      const double h = this->GetDestinationImage()->GetSpacing()[i];
      weights[i] = 1.0 / (h * h);
    }
  }
  return weights;
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::AssembleSystem(const RegionType &          boxRegion,
                                                            const std::vector<double> & weights,
                                                            LinearSystem &              system) const
{
  // One function with its inner loops: the assembly is the hot loop of a blend (issue 17).
  using MaskPixelType = typename MaskImageType::PixelType;
  const ImageType *         destination = this->GetDestinationImage();
  const InternalPixelType * destinationBuffer = destination->GetBufferPointer();
  const InternalPixelType * sourceBuffer = this->GetSourceImage()->GetBufferPointer();
  const MaskPixelType *     maskBuffer = this->GetMaskImage()->GetBufferPointer();
  const unsigned int        components = destination->GetNumberOfComponentsPerPixel();
  const bool                exact = m_Formulation == FormulationEnum::Exact;
  const bool                mixed = m_GradientMode == GradientModeEnum::Mixed;
  const double              f = m_InterpolationFactor;
  const IndexType           lower = boxRegion.GetIndex();
  const IndexType           upper = boxRegion.GetUpperIndex();
  const size_t              boxCount = boxRegion.GetNumberOfPixels();
  std::vector<size_t>       boxSize(boxRegion.GetSize().begin(), boxRegion.GetSize().end());
  OffsetValueType           imageStride[ImageDimension];
  for (unsigned int i = 0; i < ImageDimension; ++i)
  {
    imageStride[i] = i == 0 ? 1 : static_cast<OffsetValueType>(this->GetOutput()->GetOffsetTable()[i]);
  }
  const auto isSet = [](MaskPixelType v) { return v != NumericTraits<MaskPixelType>::ZeroValue(); };
  system.unknowns = std::vector<unsigned char>(boxCount, 0);
  system.rhs = std::vector<double>(boxCount * components, 0.0);
  system.solution = std::vector<double>(boxCount * components, 0.0);
  std::vector<unsigned char> & unknowns = system.unknowns;
  std::vector<double> &        rhs = system.rhs;
  std::vector<double> &        solution = system.solution;
  // Generic over the component count: compiled for 1 (scalar images, the common case) and for
  // a run-time count (up to kMaximumComponents on the stack, more on the heap).
  constexpr unsigned int kMaximumComponents = 16;
  const auto             assemble = [&](auto componentsTag) {
    constexpr unsigned int K = decltype(componentsTag)::value; // 0 = run-time count
    const unsigned int     count = K ? K : components;
    std::vector<double>    heap(K == 0 && count > kMaximumComponents ? 2 * count : 0);
    double                 stack[2 * kMaximumComponents];
    double *               sourceDifference = heap.empty() ? stack : heap.data();
    double *               destinationDifference = sourceDifference + count;
    // Locals, not captures: the compiler keeps them in registers across the stores to rhs.
    const MaskPixelType *     maskData = maskBuffer;
    const InternalPixelType * destinationData = destinationBuffer;
    const InternalPixelType * sourceData = sourceBuffer;
    double *                  rhsData = rhs.data();
    double *                  solutionData = solution.data();
    unsigned char *           unknownData = unknowns.data();
    const size_t              rowLength = boxSize[0];
    PoissonBlendDetail::ForEachRow(boxRegion, [&](const IndexType & rowIndex, SizeValueType row) {
      const OffsetValueType rowOffset = destination->ComputeOffset(rowIndex);
      for (size_t x = 0; x < rowLength; ++x)
      {
        const OffsetValueType o = rowOffset + static_cast<OffsetValueType>(x);
        const bool            inMaskP = isSet(maskData[o]);
        if (exact && !inMaskP)
        {
          continue;
        }
        const size_t u = row * rowLength + x;
        unknownData[u] = 1;
        double accumulated[K ? K : 1] = {};
        const InternalPixelType * dp = destinationData + o * count;
        const InternalPixelType * sp = sourceData + o * count;
        for (unsigned int i = 0; i < ImageDimension; ++i)
        {
          const IndexValueType coordinate = (i == 0 ? rowIndex[0] + static_cast<IndexValueType>(x) : rowIndex[i]);
          for (const int direction : { -1, 1 })
          {
            const OffsetValueType q = o + direction * imageStride[i];
            const bool            inMaskQ = isSet(maskData[q]);
            const IndexValueType  neighbour = coordinate + direction;
            // Exact: the unknowns are the mask; Box: the whole bounding box.
            const bool boundary = exact ? !inMaskQ : (neighbour < lower[i] || neighbour > upper[i]);
            const InternalPixelType * dq = destinationData + q * count;
            const InternalPixelType * sq = sourceData + q * count;
            double                    sourceMagnitude = 0.0;
            double                    destinationMagnitude = 0.0;
            for (unsigned int c = 0; c < count; ++c)
            {
              sourceDifference[c] = static_cast<double>(sp[c]) - static_cast<double>(sq[c]);
              destinationDifference[c] = static_cast<double>(dp[c]) - static_cast<double>(dq[c]);
              sourceMagnitude += std::abs(sourceDifference[c]);
              destinationMagnitude += std::abs(destinationDifference[c]);
            }
            // Box formulation: edges with neither end in the mask keep the destination's gradient.
            // Mixed (Pérez Eq. 13): the destination's gradient wins only where it is stronger.
            // Bitwise, not short-circuit, and the shares as products: the comparison of the two
            // magnitudes is data-dependent, and as a branch it was mispredicted often enough to
            // cost a third of the assembly (issue 17). 1 * f and 0 * f are f and 0 exactly.
            const bool   guided = exact | inMaskP | inMaskQ;
            const bool   fromSource = guided & !(mixed & (destinationMagnitude > sourceMagnitude));
            const double sourceShare = static_cast<double>(fromSource) * f;
            const double boundaryShare = static_cast<double>(boundary);
            for (unsigned int c = 0; c < count; ++c)
            {
              const double guidance = sourceShare * sourceDifference[c] + (1.0 - sourceShare) * destinationDifference[c] +
                                      boundaryShare * static_cast<double>(dq[c]);
              if constexpr (K != 0)
              {
                accumulated[c] += weights[i] * guidance;
              }
              else
              {
                rhsData[c * boxCount + u] += weights[i] * guidance;
              }
            }
          }
        }
        if constexpr (K != 0)
        {
          for (unsigned int c = 0; c < count; ++c)
          {
            rhsData[c * boxCount + u] = accumulated[c];
          }
        }
        // The same initial guess in both modes: where the guidance agrees so do the results.
        for (unsigned int c = 0; c < count; ++c)
        {
          solutionData[c * boxCount + u] = f * static_cast<double>(sp[c]) + (1.0 - f) * static_cast<double>(dp[c]);
        }
      }
    });
  };
  if (components == 1)
  {
    assemble(std::integral_constant<unsigned int, 1>{});
  }
  else
  {
    assemble(std::integral_constant<unsigned int, 0>{});
  }
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::SolveSystem(const RegionType &          boxRegion,
                                                         const std::vector<double> & weights,
                                                         LinearSystem &              system)
{
  const unsigned int  components = this->GetDestinationImage()->GetNumberOfComponentsPerPixel();
  const size_t        boxCount = boxRegion.GetNumberOfPixels();
  std::vector<size_t> boxSize(boxRegion.GetSize().begin(), boxRegion.GetSize().end());
  nsa::PoissonSolver::Options options;
  options.RelativeTolerance = m_RelativeTolerance;
  options.MaximumNumberOfIterations = m_MaximumNumberOfIterations;
  options.Preconditioner = m_UseMultigrid ? nsa::PoissonSolver::PreconditionerEnum::Multigrid
                                          : nsa::PoissonSolver::PreconditionerEnum::DiscreteSineTransform;
  options.EnlargeToFastSize = m_EnlargeToFastSize;
  const nsa::PoissonSolver solver(boxSize, weights, system.unknowns, options);
  for (unsigned int c = 0; c < components; ++c)
  {
    const nsa::PoissonSolver::Report report = solver.Solve(&system.rhs[c * boxCount], &system.solution[c * boxCount]);
    if (!report.Converged)
    {
      itkExceptionMacro("The Poisson solve did not converge for component "
                        << c << ": relative residual " << report.RelativeResidual << " after " << report.Iterations
                        << " iterations (RelativeTolerance " << m_RelativeTolerance << ", MaximumNumberOfIterations "
                        << m_MaximumNumberOfIterations << ")");
    }
    m_NumberOfIterations = std::max(m_NumberOfIterations, report.Iterations);
    m_RelativeResidual = std::max(m_RelativeResidual, report.RelativeResidual);
    this->UpdateProgress(0.1f + 0.85f * static_cast<float>(c + 1) / static_cast<float>(components));
  }
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::WriteSolution(const RegionType & boxRegion, const LinearSystem & system)
{
  // Row by row over the box.
  ImageType *                        output = this->GetOutput();
  const unsigned int                 components = output->GetNumberOfComponentsPerPixel();
  const size_t                       boxCount = boxRegion.GetNumberOfPixels();
  const size_t                       rowLength = boxRegion.GetSize(0);
  const std::vector<unsigned char> & unknowns = system.unknowns;
  const std::vector<double> &        solution = system.solution;
  InternalPixelType *                outputBuffer = output->GetBufferPointer();
  const double                       minimum = m_OutputMinimum;
  const double                       maximum = m_OutputMaximum;
  PoissonBlendDetail::ForEachRow(boxRegion, [&](const IndexType & rowIndex, SizeValueType row) {
    const OffsetValueType offset = output->ComputeOffset(rowIndex);
    for (size_t x = 0; x < rowLength; ++x)
    {
      const size_t u = row * rowLength + x;
      if (!unknowns[u])
      {
        continue;
      }
      InternalPixelType * out = outputBuffer + (offset + static_cast<OffsetValueType>(x)) * components;
      for (unsigned int c = 0; c < components; ++c)
      {
        double value = solution[c * boxCount + u];
        if (m_ClampOutput)
        {
          value = std::min(std::max(value, minimum), maximum);
        }
        out[c] = static_cast<InternalPixelType>(value);
      }
    }
  });
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::GenerateData()
{
  const ImageType * destination = this->GetDestinationImage();
  ImageType *       output = this->GetOutput();

  this->AllocateOutputs();
  const RegionType imageRegion = output->GetRequestedRegion();
  // Everything outside the solved voxels is the destination, bit for bit.
  ImageAlgorithm::Copy(destination, output, imageRegion, imageRegion);
  m_NumberOfIterations = 0;
  m_RelativeResidual = 0.0;

  for (const DataObject * input :
       std::initializer_list<const DataObject *>{ destination, this->GetSourceImage(), this->GetMaskImage() })
  {
    // Requested in full (GenerateInputRequestedRegion); the raw-buffer loops rely on it.
    if (static_cast<const ImageBase<ImageDimension> *>(input)->GetBufferedRegion() != imageRegion)
    {
      itkExceptionMacro("An input's buffered region differs from the destination's largest possible region");
    }
  }

  // The unknowns lie in the mask's bounding box; the solve also reads a one-voxel margin
  // around it, which must lie inside the image and hold finite values.
  const RegionType boxRegion = this->MaskBoundingBox(imageRegion);
  this->VerifyMarginAroundMask(boxRegion, imageRegion);
  RegionType paddedRegion = boxRegion;
  paddedRegion.PadByRadius(1);
  this->VerifyFiniteValues(paddedRegion);

  const std::vector<double> weights = this->LaplacianWeights();
  LinearSystem              system;
  this->AssembleSystem(boxRegion, weights, system);
  this->UpdateProgress(0.1f);
  this->SolveSystem(boxRegion, weights, system);
  this->WriteSolution(boxRegion, system);
  this->UpdateProgress(1.0f);
}

template <typename TImage, typename TMaskImage>
void
PoissonBlendImageFilter<TImage, TMaskImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "GradientMode: " << m_GradientMode << std::endl;
  os << indent << "Formulation: " << m_Formulation << std::endl;
  os << indent << "InterpolationFactor: " << m_InterpolationFactor << std::endl;
  os << indent << "ClampOutput: " << m_ClampOutput << std::endl;
  os << indent << "OutputMinimum: " << m_OutputMinimum << std::endl;
  os << indent << "OutputMaximum: " << m_OutputMaximum << std::endl;
  os << indent << "UseImageSpacing: " << m_UseImageSpacing << std::endl;
  os << indent << "RelativeTolerance: " << m_RelativeTolerance << std::endl;
  os << indent << "MaximumNumberOfIterations: " << m_MaximumNumberOfIterations << std::endl;
  os << indent << "UseMultigrid: " << m_UseMultigrid << std::endl;
  os << indent << "EnlargeToFastSize: " << m_EnlargeToFastSize << std::endl;
  os << indent << "NumberOfIterations: " << m_NumberOfIterations << std::endl;
  os << indent << "RelativeResidual: " << m_RelativeResidual << std::endl;
}

} // namespace itk

#endif
