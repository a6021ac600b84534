#ifndef itkPoissonBlendImageFilter_hxx
#define itkPoissonBlendImageFilter_hxx

#include "itkPoissonBlendImageFilter.h"

#include "itkImageAlgorithm.h"
#include "itkImageRegionConstIteratorWithIndex.h"
#include "nsaPoissonSolver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace itk
{

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
void
PoissonBlendImageFilter<TImage, TMaskImage>::GenerateData()
{
  const ImageType *     destination = this->GetDestinationImage();
  const ImageType *     source = this->GetSourceImage();
  const MaskImageType * mask = this->GetMaskImage();
  ImageType *           output = this->GetOutput();

  this->AllocateOutputs();
  const RegionType imageRegion = output->GetRequestedRegion();
  // Everything outside the solved voxels is the destination, bit for bit.
  ImageAlgorithm::Copy(destination, output, imageRegion, imageRegion);
  m_NumberOfIterations = 0;
  m_RelativeResidual = 0.0;

  // Bounding box of the mask.
  IndexType    lower;
  IndexType    upper;
  lower.Fill(NumericTraits<IndexValueType>::max());
  upper.Fill(NumericTraits<IndexValueType>::NonpositiveMin());
  SizeValueType maskCount = 0;
  for (ImageRegionConstIteratorWithIndex<MaskImageType> it(mask, imageRegion); !it.IsAtEnd(); ++it)
  {
    if (it.Get() != NumericTraits<typename MaskImageType::PixelType>::ZeroValue())
    {
      const IndexType & index = it.GetIndex();
      for (unsigned int i = 0; i < ImageDimension; ++i)
      {
        lower[i] = std::min(lower[i], index[i]);
        upper[i] = std::max(upper[i], index[i]);
      }
      ++maskCount;
    }
  }
  if (maskCount == 0)
  {
    itkExceptionMacro("MaskImage has no non-zero voxel: there is no region to blend");
  }
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

  // Working arrays over the mask's bounding box grown by one voxel (the padded box), x fastest.
  const unsigned int  components = destination->GetNumberOfComponentsPerPixel();
  const bool          exact = m_Formulation == FormulationEnum::Exact;
  IndexType           paddedIndex;
  SizeType            paddedSize;
  std::vector<size_t> boxSize(ImageDimension);
  std::vector<size_t> paddedStride(ImageDimension, 1);
  size_t              paddedCount = 1;
  size_t              boxCount = 1;
  for (unsigned int i = 0; i < ImageDimension; ++i)
  {
    paddedIndex[i] = lower[i] - 1;
    boxSize[i] = static_cast<size_t>(upper[i] - lower[i] + 1);
    paddedSize[i] = static_cast<SizeValueType>(boxSize[i] + 2);
    paddedStride[i] = paddedCount;
    paddedCount *= paddedSize[i];
    boxCount *= boxSize[i];
  }
  const RegionType paddedRegion(paddedIndex, paddedSize);

  std::vector<double>        destinationValues(paddedCount * components);
  std::vector<double>        sourceValues(paddedCount * components);
  std::vector<unsigned char> inMask(paddedCount);
  {
    const InternalPixelType * destinationBuffer = destination->GetBufferPointer();
    const InternalPixelType * sourceBuffer = source->GetBufferPointer();
    size_t                    linear = 0;
    for (ImageRegionConstIteratorWithIndex<MaskImageType> it(mask, paddedRegion); !it.IsAtEnd(); ++it, ++linear)
    {
      const IndexType & index = it.GetIndex();
      inMask[linear] = it.Get() != NumericTraits<typename MaskImageType::PixelType>::ZeroValue();
      const InternalPixelType * d = destinationBuffer + destination->ComputeOffset(index) * components;
      const InternalPixelType * s = sourceBuffer + source->ComputeOffset(index) * components;
      for (unsigned int c = 0; c < components; ++c)
      {
        const double dValue = static_cast<double>(d[c]);
        const double sValue = static_cast<double>(s[c]);
        if (!std::isfinite(dValue) || !std::isfinite(sValue))
        {
          itkExceptionMacro("" << (std::isfinite(dValue) ? "SourceImage" : "DestinationImage")
                            << " has a non-finite value (" << (std::isfinite(dValue) ? sValue : dValue)
                            << ") at index " << index << ", component " << c
                            << ", which the Poisson solve would read (the mask's bounding box grown by one voxel)");
        }
        destinationValues[c * paddedCount + linear] = dValue;
        sourceValues[c * paddedCount + linear] = sValue;
      }
    }
  }

  // Laplacian weights 1 / h_i^2.
  std::vector<double> weights(ImageDimension, 1.0);
  if (m_UseImageSpacing)
  {
    for (unsigned int i = 0; i < ImageDimension; ++i)
    {
      const double h = destination->GetSpacing()[i];
      weights[i] = 1.0 / (h * h);
    }
  }

  // Unknowns on the box grid, the right-hand side b and the initial guess, per component.
  std::vector<unsigned char> unknowns(boxCount);
  std::vector<size_t>        paddedOfBox(boxCount);
  {
    std::vector<size_t> index(ImageDimension, 0);
    for (size_t u = 0; u < boxCount; ++u)
    {
      size_t p = 0;
      for (unsigned int i = 0; i < ImageDimension; ++i)
      {
        p += (index[i] + 1) * paddedStride[i];
      }
      paddedOfBox[u] = p;
      unknowns[u] = exact ? inMask[p] : 1;
      for (unsigned int i = 0; i < ImageDimension; ++i)
      {
        if (++index[i] < boxSize[i])
        {
          break;
        }
        index[i] = 0;
      }
    }
  }
  // In padded coordinates a voxel is an unknown when it lies in the box and unknowns says so;
  // the padding ring is never an unknown.
  std::vector<unsigned char> paddedUnknown(paddedCount, 0);
  for (size_t u = 0; u < boxCount; ++u)
  {
    paddedUnknown[paddedOfBox[u]] = unknowns[u];
  }

  const double        f = m_InterpolationFactor;
  const bool          mixed = m_GradientMode == GradientModeEnum::Mixed;
  std::vector<double> rhs(boxCount * components, 0.0);
  std::vector<double> solution(boxCount * components, 0.0);
  std::vector<double> sourceDifference(components);
  std::vector<double> destinationDifference(components);
  for (size_t u = 0; u < boxCount; ++u)
  {
    if (!unknowns[u])
    {
      continue;
    }
    const size_t p = paddedOfBox[u];
    for (unsigned int i = 0; i < ImageDimension; ++i)
    {
      for (const int direction : { -1, 1 })
      {
        const size_t q = direction < 0 ? p - paddedStride[i] : p + paddedStride[i];
        double       sourceMagnitude = 0.0;
        double       destinationMagnitude = 0.0;
        for (unsigned int c = 0; c < components; ++c)
        {
          sourceDifference[c] = sourceValues[c * paddedCount + p] - sourceValues[c * paddedCount + q];
          destinationDifference[c] = destinationValues[c * paddedCount + p] - destinationValues[c * paddedCount + q];
          sourceMagnitude += std::abs(sourceDifference[c]);
          destinationMagnitude += std::abs(destinationDifference[c]);
        }
        // Box formulation: edges with neither end in the mask keep the destination's gradient.
        const bool guided = exact || inMask[p] || inMask[q];
        // Mixed (Pérez Eq. 13): the destination's gradient wins only where it is stronger.
        const bool fromSource = guided && !(mixed && destinationMagnitude > sourceMagnitude);
        const bool boundary = !paddedUnknown[q];
        for (unsigned int c = 0; c < components; ++c)
        {
          double guidance = destinationDifference[c];
          if (fromSource)
          {
            guidance = f * sourceDifference[c] + (1.0 - f) * destinationDifference[c];
          }
          if (boundary)
          {
            guidance += destinationValues[c * paddedCount + q];
          }
          rhs[c * boxCount + u] += weights[i] * guidance;
        }
      }
    }
    for (unsigned int c = 0; c < components; ++c)
    {
      const double d = destinationValues[c * paddedCount + p];
      const double s = sourceValues[c * paddedCount + p];
      // The same initial guess in both modes: where the guidance agrees so do the results.
      solution[c * boxCount + u] = f * s + (1.0 - f) * d;
    }
  }
  this->UpdateProgress(0.1f);

  nsa::PoissonSolver::Options options;
  options.RelativeTolerance = m_RelativeTolerance;
  options.MaximumNumberOfIterations = m_MaximumNumberOfIterations;
  // The Box formulation is defined on the mask's bounding box itself; only the Exact one may
  // move its preconditioner grid to fast lengths.
  options.EnlargeToFastSize = exact && m_EnlargeToFastSize;
  const nsa::PoissonSolver solver(boxSize, weights, std::move(unknowns), options);
  for (unsigned int c = 0; c < components; ++c)
  {
    const nsa::PoissonSolver::Report report = solver.Solve(&rhs[c * boxCount], &solution[c * boxCount]);
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

  // Write the solved voxels.
  InternalPixelType * outputBuffer = output->GetBufferPointer();
  const double        minimum = m_OutputMinimum;
  const double        maximum = m_OutputMaximum;
  {
    std::vector<size_t> index(ImageDimension, 0);
    const bool          allUnknown = !exact;
    for (size_t u = 0; u < boxCount; ++u)
    {
      if (allUnknown || inMask[paddedOfBox[u]])
      {
        IndexType imageIndex;
        for (unsigned int i = 0; i < ImageDimension; ++i)
        {
          imageIndex[i] = lower[i] + static_cast<IndexValueType>(index[i]);
        }
        InternalPixelType * out = outputBuffer + output->ComputeOffset(imageIndex) * components;
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
      for (unsigned int i = 0; i < ImageDimension; ++i)
      {
        if (++index[i] < boxSize[i])
        {
          break;
        }
        index[i] = 0;
      }
    }
  }
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
  os << indent << "EnlargeToFastSize: " << m_EnlargeToFastSize << std::endl;
  os << indent << "NumberOfIterations: " << m_NumberOfIterations << std::endl;
  os << indent << "RelativeResidual: " << m_RelativeResidual << std::endl;
}

} // namespace itk

#endif
