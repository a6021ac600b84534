#ifndef nsaNormalisation_h
#define nsaNormalisation_h

#include "itkImage.h"
#include "itkVectorImage.h"
#include "nsaParameters.h"

#include <vector>

namespace nsa
{

/** \brief The linear intensity map of one channel: `[inputLow, inputHigh]` goes to
 * `[outputLow, outputHigh]`, values outside clipped when `clip`.
 *
 * `v' = outputLow + (v - inputLow) * (outputHigh - outputLow) / (inputHigh - inputLow)`. */
struct NormalisationMapping
{
  double inputLow = 0.0;
  double inputHigh = 1.0;
  double outputLow = 0.0;
  double outputHigh = 1.0;
  bool   clip = false;

  double
  Apply(double value) const;
};

/** Computes the mapping of every channel of `image` (one entry per component) under
 * `parameters` (nsa::NormalisationParameters, section "normalisation" of a preset):
 * - "none": identity;
 * - "window": `window` (image units, e.g. a CT window in HU) to `output_range`;
 * - "percentile": the `percentiles` of the foreground to `output_range` (MR robust
 *   scaling). Foreground: `foregroundMask` > 0 if given, else voxels above
 *   `foreground_threshold` if set, else voxels above the channel's minimum. Percentiles
 *   interpolate linearly between order statistics (rank p/100 * (n - 1), numpy's default);
 * - "minmax": the channel's minimum and maximum to `output_range`.
 * Throws nsa::InputError for an empty foreground or a constant one (the map would divide
 * by zero), nsa::ParameterError for invalid parameters or a mask of another size. */
template <typename TImage>
std::vector<NormalisationMapping>
ComputeNormalisation(const TImage * image, const NormalisationParameters & parameters,
                     const itk::Image<unsigned char, TImage::ImageDimension> * foregroundMask = nullptr);

/** Applies per-channel mappings; returns a new image with `image`'s geometry. */
template <typename TImage>
typename TImage::Pointer
ApplyNormalisation(const TImage * image, const std::vector<NormalisationMapping> & mappings);

/** ComputeNormalisation followed by ApplyNormalisation. The same parameters give the same
 * result in training and prediction: they are saved with the model (Learning module). */
template <typename TImage>
typename TImage::Pointer
Normalise(const TImage * image, const NormalisationParameters & parameters,
          const itk::Image<unsigned char, TImage::ImageDimension> * foregroundMask = nullptr);

#define NSA_NORMALISATION_EXTERN(...)                                                                         \
  extern template std::vector<NormalisationMapping> ComputeNormalisation<__VA_ARGS__>(                       \
    const __VA_ARGS__ *, const NormalisationParameters &,                                                     \
    const itk::Image<unsigned char, __VA_ARGS__::ImageDimension> *);                                          \
  extern template __VA_ARGS__::Pointer ApplyNormalisation<__VA_ARGS__>(const __VA_ARGS__ *,                   \
                                                                       const std::vector<NormalisationMapping> &); \
  extern template __VA_ARGS__::Pointer Normalise<__VA_ARGS__>(                                                \
    const __VA_ARGS__ *, const NormalisationParameters &, const itk::Image<unsigned char, __VA_ARGS__::ImageDimension> *)
NSA_NORMALISATION_EXTERN(itk::Image<float, 2>);
NSA_NORMALISATION_EXTERN(itk::Image<float, 3>);
NSA_NORMALISATION_EXTERN(itk::VectorImage<float, 2>);
NSA_NORMALISATION_EXTERN(itk::VectorImage<float, 3>);
#undef NSA_NORMALISATION_EXTERN

} // namespace nsa

#endif
