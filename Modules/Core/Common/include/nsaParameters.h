#ifndef nsaParameters_h
#define nsaParameters_h

#include "nsaModes.h"

#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace nsa
{

/** \file nsaParameters.h
 * \brief The parameter structures of synthesis, normalisation, training and prediction.
 *
 * Field names are the JSON keys, the command-line flags (`--num_patches`) and the names used
 * in Documentation/, one name per idea. Defaults are the NSA paper's (Schlüter et al.,
 * ECCV 2022, arXiv 2109.15222) where it has one. Each structure lists its fields once in
 * Visit() and checks relations between them in Validate(). A mode is an enum of nsaModes.h:
 * converted from its name once, where a file or flag is read, and compared as an enum after
 * that; its choices are the enum's name table.
 *
 * This header needs the C++ standard library only: the JSON form (reader, writer,
 * documentation) is in nsaParameterJson.h, which includes this one, so code that only uses
 * the structures (the ITK filters) compiles no JSON; their validators (nsaParameters.cxx)
 * link none either (Core.ParametersLinkWithoutJson).
 */

constexpr double Unbounded = std::numeric_limits<double>::max();

/** \brief How one training example is synthesised (the NSA filter). */
struct SynthesisParameters
{
  static constexpr const char * SectionName = "synthesis";

  int                 num_patches = 3;
  PatchRule           patch_rule = PatchRule::Gamma;
  double              gamma_shape = 2.0;
  double              gamma_scale = 0.05;
  double              gamma_lower = 0.03;
  std::vector<double> width_bounds{ 0.03, 0.4 };
  std::vector<double> cutpaste_area_bounds{ 0.02, 0.15 };
  std::vector<double> cutpaste_aspect_bounds{ 0.3, 3.3 };
  int                 min_patch_width = 4;
  PatchShape          patch_shape = PatchShape::Box;
  int                 num_ellipses = 4;
  double              resize_sigma = 0.5;
  bool                resize = true;
  std::vector<double> resize_bounds{ 0.7, 1.3 };
  bool                shift = true;
  ObjectMask          object_mask = ObjectMask::None;
  std::optional<double> background_intensity;
  double              background_tolerance = 0.0;
  std::optional<double> object_threshold;
  int                 object_median_radius = 3;
  double              object_erosion = 0.0;
  double              min_object = 0.25;
  double              min_overlap = 0.25;
  int                 max_attempts = 200;
  BlendMode           blend_mode = BlendMode::PoissonMixed;
  std::vector<double> interpolation_bounds{ 0.05, 0.95 };
  LabelMode           label_mode = LabelMode::LogisticIntensity;
  double              label_tolerance = 1.0 / 255.0;
  int                 label_mask_median_radius = 2;
  int                 label_median_radius = 5;
  double              logistic_k = 21.25;
  double              logistic_x0 = 0.094;
  std::optional<double> label_intensity_scale;
  std::vector<double> intensity_range;

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Integer("num_patches", self.num_patches, 1, 32,
              "Maximum number of patches; the first is always attempted, each further one on a fair coin flip.");
    v.Choice("patch_rule", self.patch_rule,
             "Patch size rule: NSA's half-width = gamma_lower + Gamma(gamma_shape, gamma_scale) per axis, or "
             "CutPaste's area/aspect rule.");
    v.Real("gamma_shape", self.gamma_shape, 1e-3, 100.0, "Shape of the Gamma distribution of patch half-widths.");
    v.Real("gamma_scale", self.gamma_scale, 1e-6, 1.0,
           "Scale of the Gamma distribution of patch half-widths, as a fraction of the image extent.");
    v.Real("gamma_lower", self.gamma_lower, 0.0, 1.0, "Added to the Gamma draw (fraction of the extent).");
    v.RealVector("width_bounds", self.width_bounds, 0.0, 1.0, { 2, 4, 6 },
                 "Patch width bounds as fractions of the image extent: [low, high] for every axis, or low/high "
                 "pairs per axis (x, y[, z]).");
    v.RealVector("cutpaste_area_bounds", self.cutpaste_area_bounds, 0.0, 1.0, { 2 },
                 "CutPaste rule: patch area (volume) as a fraction of the image, [low, high].");
    v.RealVector("cutpaste_aspect_bounds", self.cutpaste_aspect_bounds, 1e-3, 1e3, { 2 },
                 "CutPaste rule: aspect ratio range [low, high]; a fair coin picks [low, 1) or [1, high], then "
                 "the ratio is uniform on it (as the official NSA code does).");
    v.Integer("min_patch_width", self.min_patch_width, 1, 1 << 20,
              "Smallest patch width in voxels along any axis; narrower draws are widened.");
    v.Choice("patch_shape", self.patch_shape,
             "Patch shape: the full box, or a union of random ellipses (ellipsoids in 3D) inside it.");
    v.Integer("num_ellipses", self.num_ellipses, 1, 64, "Number of ellipses for patch_shape 'ellipses'.");
    v.Real("resize_sigma", self.resize_sigma, 0.0, 10.0, "Standard deviation of the resize factor ~ Normal(1, sigma).");
    v.Boolean("resize", self.resize,
              "Resample the patch by a random factor before blending (false: keep its physical size, as FPI and "
              "CutPaste do).");
    v.RealVector("resize_bounds", self.resize_bounds, 0.01, 100.0, { 2 },
                 "Resize factor bounds [low, high]; the aspect ratio is kept.");
    v.Boolean("shift", self.shift, "Move the patch to a new destination location (false: same location).");
    v.Choice("object_mask", self.object_mask,
             "Object mask: none, from background_intensity +- background_tolerance (the paper), from "
             "object_threshold (e.g. HU for CT), above Otsu's threshold of the image (MR, any scanner "
             "units), or from a mask image given to the filter.");
    v.OptionalReal("background_intensity", self.background_intensity, -Unbounded, Unbounded,
                   "Background intensity for object_mask 'background' (image units).");
    v.Real("background_tolerance", self.background_tolerance, 0.0, Unbounded,
           "Tolerance around background_intensity (image units).");
    v.OptionalReal("object_threshold", self.object_threshold, -Unbounded, Unbounded,
                   "Voxels above this are object, for object_mask 'threshold' (image units, e.g. -500 HU).");
    v.Integer("object_median_radius", self.object_median_radius, 0, 64,
              "Radius of the median filter that cleans the object mask (voxels; paper: 3, a 7x7 median).");
    v.Real("object_erosion", self.object_erosion, 0.0, Unbounded,
           "Shrink a computed object mask to the voxels at least this far (physical units, mm) inside its "
           "outline (holes filled), so that patches come from and land in the object's interior, e.g. the brain "
           "without scalp and skull in a head MR; 0: the mask as computed.");
    v.Real("min_object", self.min_object, 0.0, 1.0, "Minimum object fraction inside a source patch.");
    v.Real("min_overlap", self.min_overlap, 0.0, 1.0,
           "Minimum overlap of source object and destination object at the destination location.");
    v.Integer("max_attempts", self.max_attempts, 1, 100000,
              "Attempts to place a patch (source and destination each) before giving up on it.");
    v.Choice("blend_mode", self.blend_mode,
             "Blending: Poisson with source gradients, Poisson with mixed gradients, plain paste (CutPaste-like), "
             "convex interpolation (FPI-like), or Poisson with interpolated gradients (FPI-Poisson).");
    v.RealVector("interpolation_bounds", self.interpolation_bounds, 0.0, 1.0, { 2 },
                 "Range of the interpolation factor for 'uniform' and 'poisson-uniform' blends.");
    v.Choice("label_mode", self.label_mode,
             "Label: binary, the interpolation factor, the median-filtered mean absolute change, or a logistic of "
             "it 1/(1+exp(-logistic_k (change - logistic_x0))).");
    v.Real("label_tolerance", self.label_tolerance, 0.0, Unbounded,
           "Changes at or below this (normalised units) are not labelled.");
    v.Integer("label_mask_median_radius", self.label_mask_median_radius, 0, 64,
              "Radius of the median filter that cleans the thresholded change mask (voxels; paper: 2, a 5x5 "
              "median).");
    v.Integer("label_median_radius", self.label_median_radius, 0, 64,
              "Radius of the median filter applied to the change for intensity labels (voxels; paper: 5).");
    v.Real("logistic_k", self.logistic_k, 0.0, Unbounded, "Slope k of the logistic label (per normalised unit).");
    v.Real("logistic_x0", self.logistic_x0, -Unbounded, Unbounded,
           "Midpoint x0 of the logistic label (normalised units).");
    v.OptionalReal("label_intensity_scale", self.label_intensity_scale, 1e-12, Unbounded,
                   "Image units per normalised unit for labels; null: the destination's robust range (1st to "
                   "99th percentile).");
    v.RealVector("intensity_range", self.intensity_range, -Unbounded, Unbounded, { 0, 2 },
                 "Clamp the blended image to [low, high] (image units, e.g. [-1024, 3071] HU); empty: no clamp.");
  }

  void
  Validate() const;
};

/** \brief How intensities are normalised for the network (saved with every model). */
struct NormalisationParameters
{
  static constexpr const char * SectionName = "normalisation";

  NormalisationMode   mode = NormalisationMode::Percentile;
  std::vector<double> window{ -1000.0, 1000.0 };
  std::vector<double> percentiles{ 1.0, 99.0 };
  std::optional<double> foreground_threshold;
  std::vector<double> output_range{ 0.0, 1.0 };
  bool                clip = true;

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Choice("mode", self.mode,
             "none; window: map [low, high] image units (e.g. a CT window in HU); percentile: map the given "
             "percentiles of the foreground (MR robust scaling); minmax: map the image's range.");
    v.RealVector("window", self.window, -Unbounded, Unbounded, { 2 }, "Window [low, high] for mode 'window'.");
    v.RealVector("percentiles", self.percentiles, 0.0, 100.0, { 2 },
                 "Percentiles [low, high] for mode 'percentile'.");
    v.OptionalReal("foreground_threshold", self.foreground_threshold, -Unbounded, Unbounded,
                   "Voxels above this form the foreground for percentiles; null: voxels above the image minimum.");
    v.RealVector("output_range", self.output_range, -Unbounded, Unbounded, { 2 },
                 "Values the window or percentiles are mapped to.");
    v.Boolean("clip", self.clip, "Clip normalised values to output_range.");
  }

  void
  Validate() const;
};

/** \brief Scanner-variation augmentation of training images (destination and source, before
 * synthesis), in normalised intensity units and millimetres. Each transform is applied with
 * `probability`, independently; a range [a, a] (or 0) switches it off. Defaults: all off. */
struct AugmentationParameters
{
  static constexpr const char * SectionName = "augmentation";

  double              probability = 0.5;
  std::vector<double> gamma{ 1.0, 1.0 };
  std::vector<double> contrast{ 1.0, 1.0 };
  std::vector<double> brightness{ 0.0, 0.0 };
  double              bias_field = 0.0;
  std::vector<double> noise{ 0.0, 0.0 };
  std::vector<double> blur{ 0.0, 0.0 };
  std::vector<double> resolution{ 0.0, 0.0 };
  double              elastic_displacement = 0.0;
  double              elastic_spacing = 24.0;
  int                 remap_points = 0;

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Real("probability", self.probability, 0.0, 1.0, "Probability with which each transform is applied.");
    v.RealVector("gamma", self.gamma, 0.05, 20.0, { 2 },
                 "Gamma range [low, high]: v -> low + (high - low) ((v - low) / (high - low))^gamma over the "
                 "normalisation's output range.");
    v.RealVector("contrast", self.contrast, 0.0, 100.0, { 2 },
                 "Contrast factor range about the mean of the object (voxels above the normalised minimum).");
    v.RealVector("brightness", self.brightness, -Unbounded, Unbounded, { 2 },
                 "Additive brightness range (normalised units), applied to the object (voxels above the normalised "
                 "minimum).");
    v.Real("bias_field", self.bias_field, 0.0, 5.0,
           "Largest log-amplitude of a smooth multiplicative bias field (second-order polynomial; 0.3: up to "
           "x1.35).");
    v.RealVector("noise", self.noise, 0.0, Unbounded, { 2 },
                 "Range of the standard deviation of additive Gaussian noise (normalised units).");
    v.RealVector("blur", self.blur, 0.0, 100.0, { 2 }, "Range of the Gaussian blur sigma (mm).");
    v.RealVector("resolution", self.resolution, 0.0, 100.0, { 2 },
                 "Range of a simulated slice thickness along one random axis (mm): blurred to that full width at "
                 "half maximum, sampled at it and interpolated back.");
    v.Real("elastic_displacement", self.elastic_displacement, 0.0, 100.0,
           "Largest displacement of a random smooth (B-spline) deformation (mm); 0: none.");
    v.Real("elastic_spacing", self.elastic_spacing, 1.0, 1000.0, "Control-point spacing of that deformation (mm).");
    v.Integer("remap_points", self.remap_points, 0, 64,
              "Random contrast: the object's intensities (above the normalised minimum) go through a random "
              "piecewise-linear curve with this many equally spaced interior control points, each level drawn "
              "uniformly over the normalisation's output range (not necessarily monotonic: tissues may swap "
              "order, as between T1, T2 and PD weighting); 0: none.");
  }

  void
  Validate() const;

  /** True when no transform can change an image. */
  bool
  IsIdentity() const;
};

/** \brief What a network is: everything needed to rebuild it before its weights are loaded.
 *
 * The one home of the network's dimension, width and input channels: NSATrain's flags,
 * presets and model files (section "network") all set them here. The architecture is the
 * NSA paper's `resnet18_enc_dec` (Schlüter et al., ECCV 2022, model/resnet.py of the official
 * code): a ResNet-18 encoder ([2, 2, 2, 2] basic blocks after a 7×7 stride-2 stem and a 3×3
 * stride-2 max-pool), a 1×1 "network in network" 512→256→128, three transposed residual
 * blocks 64, 32, 16 (stride 2), bilinear ×2 upsampling, a 7×7 stride-2 transposed
 * convolution to one channel (without a bias unless output_bias; fed the last block's output
 * before its ReLU when final_relu is false) and the output activation.
 * Every channel count c becomes max(1, round(c · width_multiplier)).
 *
 * Files written before this section was the only home also carry dimension,
 * width_multiplier and input_channels in "training"; nsa::MigrateNetworkKeys
 * (nsaParameterJson.h) moves them here when such a file is read.
 */
struct NetworkParameters
{
  static constexpr const char * SectionName = "network";

  Architecture     architecture = Architecture::ResNet18EncDec;
  int              dimension = 2;
  double           width_multiplier = 1.0;
  int              input_channels = 1;
  OutputActivation output_activation = OutputActivation::Sigmoid;
  bool             output_bias = false;
  bool             final_relu = true;

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Choice("architecture", self.architecture,
             "Network architecture: the NSA paper's ResNet-18 encoder-decoder without skip connections.");
    v.Integer("dimension", self.dimension, 2, 3, "Network dimension: 2 (slices or 2D images) or 3 (volumes).");
    v.Real("width_multiplier", self.width_multiplier, 1.0 / 64.0, 4.0,
           "Channel width multiplier; 1.0 is the paper's model (11,491,440 parameters with one input channel).");
    v.Integer("input_channels", self.input_channels, 1, 64, "Input channels (1 for CT/MR, 3 for RGB).");
    v.Choice("output_activation", self.output_activation,
             "Output activation: sigmoid for BCE-trained models, relu for raw-intensity labels (MSE).");
    v.Boolean("output_bias", self.output_bias,
              "Give the last (transposed) convolution a bias. The paper's has none: its input is a ReLU output "
              "(never negative), so without a bias a sigmoid output can pass 0.5 only through the few positive "
              "weights, and small models stop at 0.5.");
    v.Boolean("final_relu", self.final_relu,
              "End the decoder's last block with its ReLU, as the paper does. Off, the last (transposed) "
              "convolution sees that block's sum before the ReLU, which can be negative, so a sigmoid output "
              "can pass 0.5 from any feature.");
  }

  void
  Validate() const
  {}

  /** The channel count of a layer that has `paperChannels` channels at width 1.0. */
  int
  Channels(int paperChannels) const;

  /** Every spatial size given to the network must be a multiple of this (the encoder
   * halves the size five times). */
  static constexpr int SizeDivisor = 32;
};

/** \brief Training settings (NSATrain); the network trained is NetworkParameters. */
struct TrainingParameters
{
  static constexpr const char * SectionName = "training";

  int                 epochs = 320;
  int                 samples_per_epoch = 0;
  int                 batch_size = 64;
  double              learning_rate = 1e-3;
  double              min_learning_rate = 1e-6;
  double              weight_decay = 0.0;
  Loss                loss = Loss::BCE;
  std::vector<double> crop_size;
  bool                flips = true;
  double              rotation_degrees = 0.0;
  int                 slice_axis = 2;
  std::vector<double> spacing;
  bool                source_from_other_study = false;
  double              min_slice_object = 0.0;
  int                 num_workers = 2;
  int                 checkpoint_every = 1;
  int                 example_every = 10;
  std::string         device = "auto";
  bool                mixed_precision = false;

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Integer("epochs", self.epochs, 1, 1000000, "Training epochs (paper: 320; 560 for rotation-variant objects).");
    v.Integer("samples_per_epoch", self.samples_per_epoch, 0, 1 << 30,
              "Synthesised samples per epoch; 0: one per training image (or slice).");
    v.Integer("batch_size", self.batch_size, 1, 4096, "Batch size (paper: 64).");
    v.Real("learning_rate", self.learning_rate, 0.0, 10.0, "Adam learning rate (paper: 1e-3).");
    v.Real("min_learning_rate", self.min_learning_rate, 0.0, 10.0, "Cosine annealing floor (paper: 1e-6).");
    v.Real("weight_decay", self.weight_decay, 0.0, 1.0, "Adam weight decay.");
    v.Choice("loss", self.loss,
             "Loss: BCE for binary and logistic labels, MSE (with ReLU output) for raw intensity labels.");
    v.RealVector("crop_size", self.crop_size, 1.0, 1e6, { 0, 2, 3 },
                 "Random crop size in voxels (x, y[, z]); empty: no crop.");
    v.Boolean("flips", self.flips, "Random flips along every axis.");
    v.Real("rotation_degrees", self.rotation_degrees, 0.0, 180.0, "Maximum random in-plane rotation.");
    v.Integer("slice_axis", self.slice_axis, 0, 2, "Patient axis across which 2D slices are taken from volumes (2: axial), cut across the voxel axis closest to it.");
    v.RealVector("spacing", self.spacing, 1e-3, 1e3, { 0, 2, 3 },
                 "Voxel spacing in mm the model works at: training images are resampled to it and so is every "
                 "study at prediction (the map goes back to the study's grid). 2D models: 2 values, the in-plane "
                 "spacing of the slices (the slice axis keeps its own); 3D models: x, y, z. Empty: as read.");
    v.Boolean("source_from_other_study", self.source_from_other_study,
              "Take each sample's source patch from another study than the destination (when there are several).");
    v.Real("min_slice_object", self.min_slice_object, 0.0, 1.0,
           "2D models: train only on slices whose object area (object mask, or voxels above the slice's "
           "minimum) is at least this fraction of the study's largest (0: every slice with content).");
    v.Integer("num_workers", self.num_workers, 0, 256, "Synthesis worker threads (0: in the training thread).");
    v.Integer("checkpoint_every", self.checkpoint_every, 1, 1000000, "Write a checkpoint every N epochs.");
    v.Integer("example_every", self.example_every, 0, 1000000,
              "Write an example-batch picture every N epochs (0: never).");
    v.Text("device", self.device, "auto, cpu, cuda or cuda:N.");
    v.Boolean("mixed_precision", self.mixed_precision, "Automatic mixed precision on CUDA.");
  }

  void
  Validate() const;

  /** The checks that need the network too (crop_size and spacing against its dimension). */
  void
  Validate(const NetworkParameters & network) const;
};

/** \brief How a model is applied to a study (NSAPredict). */
struct PredictionParameters
{
  static constexpr const char * SectionName = "prediction";

  int                 slice_axis = 2;
  int                 batch_size = 8;
  std::vector<double> window_size;
  double              window_overlap = 0.5;
  CaseScore           case_score = CaseScore::Mean;
  double              score_percentile = 99.0;
  double              top_k_fraction = 0.01;
  double              threshold = 0.5;
  ScoreMask           score_mask = ScoreMask::None;
  std::string         device = "auto";

  template <typename TSelf, typename TVisitor>
  static void
  Visit(TSelf & self, TVisitor & v)
  {
    v.Integer("slice_axis", self.slice_axis, 0, 2, "Patient axis across which a 2D model is applied slice by slice (2: axial), cut across the voxel axis closest to it.");
    v.Integer("batch_size", self.batch_size, 1, 4096, "Slices or windows per forward pass.");
    v.RealVector("window_size", self.window_size, 1.0, 1e6, { 0, 3 },
                 "Sliding-window size in voxels for 3D models; empty: the training crop size.");
    v.Real("window_overlap", self.window_overlap, 0.0, 0.95, "Sliding-window overlap fraction.");
    v.Choice("case_score", self.case_score,
             "Case score: mean of the map (the paper), a high percentile, or the mean of the top-k fraction.");
    v.Real("score_percentile", self.score_percentile, 0.0, 100.0, "Percentile for case_score 'percentile'.");
    v.Real("top_k_fraction", self.top_k_fraction, 1e-9, 1.0, "Fraction of voxels for case_score 'top-k-mean'.");
    v.Real("threshold", self.threshold, 0.0, 1.0, "Threshold of the binary mask and binary DICOM SEG.");
    v.Choice("score_mask", self.score_mask,
             "Restrict the map and the case score to the object: none, or the study's Otsu object mask (the head "
             "in MR; scores outside it are set to 0).");
    v.Text("device", self.device, "auto, cpu, cuda or cuda:N.");
  }

  void
  Validate() const;
};

namespace detail
{

/** The visitor of ParametersText. */
struct ParametersPrinter
{
  std::ostringstream out;
  void
  Key(const char * key)
  {
    out << (out.tellp() > 0 ? " " : "") << key << "=";
  }
  void
  Integer(const char * key, const int & value, int, int, const char *)
  {
    this->Key(key);
    out << value;
  }
  void
  Real(const char * key, const double & value, double, double, const char *)
  {
    this->Key(key);
    out << value;
  }
  void
  OptionalReal(const char * key, const std::optional<double> & value, double, double, const char *)
  {
    this->Key(key);
    if (value)
    {
      out << *value;
    }
    else
    {
      out << "null";
    }
  }
  void
  Boolean(const char * key, const bool & value, const char *)
  {
    this->Key(key);
    out << (value ? "true" : "false");
  }
  template <typename TEnum>
  void
  Choice(const char * key, const TEnum & value, const char *)
  {
    this->Key(key);
    out << ToString(value);
  }
  void
  Text(const char * key, const std::string & value, const char *)
  {
    this->Key(key);
    out << value;
  }
  void
  RealVector(const char * key, const std::vector<double> & value, double, double,
             const std::vector<std::size_t> &, const char *)
  {
    this->Key(key);
    out << "[";
    for (std::size_t i = 0; i < value.size(); ++i)
    {
      out << (i ? "," : "") << value[i];
    }
    out << "]";
  }
};

} // namespace detail

/** One line "key=value key=value ..." of a structure's fields in Visit order (for
 * PrintSelf and logs; the JSON form is nsa::ToJson in nsaParameterJson.h). */
template <typename TParameters>
std::string
ParametersText(const TParameters & parameters)
{
  detail::ParametersPrinter printer;
  printer.out.precision(15);
  TParameters::Visit(parameters, printer);
  return printer.out.str();
}

/** Largest N of "cuda:N": LibTorch's device index (c10::DeviceIndex) is an 8-bit signed
 * integer. */
constexpr int MaximumCudaDeviceIndex = 127;

/** Checks a device string: auto, cpu, cuda or cuda:N with N from 0 to
 * MaximumCudaDeviceIndex, digit by digit (an N of any length is refused with a message, never
 * by std::stoi's bare "stoi"). Throws ParameterError; its message calls the setting "device",
 * the JSON key (a program's flag has the same name). */
void
ValidateDeviceName(const std::string & device);

/** The CUDA device a device string names: N for "cuda:N", 0 for "cuda", -1 for "auto" and
 * "cpu". Validates first (ValidateDeviceName), so it never throws anything but
 * ParameterError. */
int
CudaDeviceIndex(const std::string & device);

} // namespace nsa

#endif
