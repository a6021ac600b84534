#include "itkNaturalSyntheticAnomalyImageFilter.h"

namespace itk
{

std::ostream &
operator<<(std::ostream & out, SyntheticAnomalyLabelModeEnum value)
{
  switch (value)
  {
    case SyntheticAnomalyLabelModeEnum::Binary:
      return out << "Binary";
    case SyntheticAnomalyLabelModeEnum::Continuous:
      return out << "Continuous";
    case SyntheticAnomalyLabelModeEnum::Intensity:
      return out << "Intensity";
    case SyntheticAnomalyLabelModeEnum::LogisticIntensity:
      return out << "LogisticIntensity";
  }
  return out << "Unknown";
}

template class NaturalSyntheticAnomalyImageFilter<Image<float, 2>>;
template class NaturalSyntheticAnomalyImageFilter<Image<float, 3>>;
template class NaturalSyntheticAnomalyImageFilter<VectorImage<float, 2>>;
template class NaturalSyntheticAnomalyImageFilter<VectorImage<float, 3>>;

} // namespace itk
