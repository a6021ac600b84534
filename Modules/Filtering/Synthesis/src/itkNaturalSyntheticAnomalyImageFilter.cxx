#include "itkNaturalSyntheticAnomalyImageFilter.h"

namespace itk
{

template class NaturalSyntheticAnomalyImageFilter<Image<float, 2>>;
template class NaturalSyntheticAnomalyImageFilter<Image<float, 3>>;
template class NaturalSyntheticAnomalyImageFilter<VectorImage<float, 2>>;
template class NaturalSyntheticAnomalyImageFilter<VectorImage<float, 3>>;

} // namespace itk
