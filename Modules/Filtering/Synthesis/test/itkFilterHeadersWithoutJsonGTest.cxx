// The ITK filters of the Synthesis module and the parameter structures they take compile
// without nlohmann/json: a method developer who uses the filters alone compiles no JSON
// (the JSON form of the parameters lives in nsaParameterJson.h).
#include "itkNaturalSyntheticAnomalyImageFilter.h"
#include "itkPoissonBlendImageFilter.h"
#include "nsaParameters.h"

#ifdef INCLUDE_NLOHMANN_JSON_HPP_
#  error "a Synthesis filter header includes nlohmann/json.hpp"
#endif

#include <gtest/gtest.h>

TEST(FilterHeaders, PrintSelfNeedsNoJson)
{
  using ImageType = itk::Image<float, 2>;
  auto filter = itk::NaturalSyntheticAnomalyImageFilter<ImageType>::New();
  nsa::SynthesisParameters parameters;
  parameters.blend_mode = nsa::BlendMode::Swap;
  filter->SetParameters(parameters);
  std::ostringstream text;
  filter->Print(text);
  EXPECT_NE(text.str().find("blend_mode=swap"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("width_bounds=[0.03,0.4]"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("0 of 0 patches blended"), std::string::npos) << text.str();
}
