// Explicit instantiations of itk::PoissonBlendImageFilter for the pixel types the toolkit uses
// (float intensities, scalar or multi-component, 2D and 3D); the header declares them extern.
#include "itkPoissonBlendImageFilter.h"

namespace itk
{
template class PoissonBlendImageFilter<Image<float, 2>>;
template class PoissonBlendImageFilter<Image<float, 3>>;
template class PoissonBlendImageFilter<VectorImage<float, 2>>;
template class PoissonBlendImageFilter<VectorImage<float, 3>>;
} // namespace itk
