# NSASynthesis as an ITK module: the filters of Natural Synthetic Anomalies (Schlüter et al.,
# ECCV 2022) without the rest of the toolkit. See CMakeLists.txt.
set(DOCUMENTATION "Natural Synthetic Anomalies: patches of one image rescaled, moved and
Poisson-blended into another (itk::NaturalSyntheticAnomalyImageFilter), exact Poisson image
blending (itk::PoissonBlendImageFilter), the anomaly labels, and a model of non-NSA lesions.")

itk_module(NSASynthesis
  DEPENDS
    ITKCommon
    ITKConnectedComponents
    ITKDistanceMap
    ITKFFT
    ITKImageFunction
    ITKImageGrid
    ITKLabelMap
    ITKSmoothing
    ITKThresholding
  TEST_DEPENDS
    ITKGoogleTest
    ITKLabelVoting
    ITKTestKernel
    ITKTransform
  DESCRIPTION "${DOCUMENTATION}"
  EXCLUDE_FROM_DEFAULT)
