// NSASynthesize: synthesises Natural Synthetic Anomalies from the command line or 3D Slicer.
// The algorithm lives in the Synthesis module (itk::NaturalSyntheticAnomalyImageFilter); this
// file reads the images, gathers the parameters (preset, JSON file, flags), loops over the
// samples and writes the outputs atomically.

#include "NSASynthesizeXML.h"

#include "itkNaturalSyntheticAnomalyImageFilter.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaError.h"
#include "nsaImageIO.h"
#include "nsaParameterFlags.h"
#include "nsaParameterJson.h"
#include "nsaPreset.h"
#include "nsaSynthesis.h"

#include "itkExtractImageFilter.h"
#include "itkImageFileWriter.h"
#include "itkImageRegionConstIterator.h"
#include "itkImageRegionIterator.h"
#include "itkMultiThreaderBase.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace
{

/** `path` with "_<i>" (zero-padded to the width of count - 1) before its extension
 * (.nii.gz counts as one extension); unchanged when count is 1. */
std::string
NumberedPath(const std::string & path, int index, int count)
{
  if (count <= 1)
  {
    return path;
  }
  const int   width = static_cast<int>(std::to_string(count - 1).size());
  std::string number = std::to_string(index);
  number = std::string(static_cast<std::size_t>(std::max(0, width - static_cast<int>(number.size()))), '0') + number;
  const std::size_t slash = path.find_last_of('/');
  std::size_t       dot = path.find('.', slash == std::string::npos ? 0 : slash + 1);
  if (dot == std::string::npos)
  {
    return path + "_" + number;
  }
  // Only the last extension, unless it is a compression suffix.
  const std::size_t last = path.find_last_of('.');
  if (last != dot)
  {
    const std::string suffix = path.substr(last);
    dot = (suffix == ".gz" || suffix == ".bz2") ? path.find_last_of('.', last - 1) : last;
  }
  return path.substr(0, dot) + "_" + number + path.substr(dot);
}

bool
EndsWith(const std::string & text, const std::string & suffix)
{
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/** Refuses, before any work, outputs that would overwrite an input or each other (image =
 * label, a numbered output = the destination, ...) or that cannot be written. */
void
CheckOutputs(nsa::ProgramContext & program)
{
  std::vector<nsa::NamedPath> inputs{ { "<destination>", program.GetString("destination") } };
  for (const char * flag : { "source", "source_mask" })
  {
    if (program.IsSet(flag))
    {
      for (const auto & path : program.GetStringVector(flag))
      {
        inputs.push_back({ std::string("--") + flag, path });
      }
    }
  }
  for (const char * flag : { "destination_mask", "parameters", "preset" })
  {
    if (program.IsSet(flag))
    {
      inputs.push_back({ std::string("--") + flag, program.GetString(flag) });
    }
  }
  const int   count = program.GetInteger("count");
  const auto  image = program.GetString("output_image");
  const auto  label = program.GetString("output_label");
  const auto  record = program.IsSet("output_record") ? program.GetString("output_record") : std::string();
  // All outputs of the first sample and the record: writable and distinct (distinct base
  // names give distinct numbered names); every further numbered output against the inputs.
  nsa::CheckOutputPaths(inputs, { { "<output_image>", NumberedPath(image, 0, count) },
                                  { "<output_label>", NumberedPath(label, 0, count) },
                                  { "--output_record", record } });
  for (int i = 1; i < count; ++i)
  {
    nsa::CheckOutputPaths(inputs, { { "<output_image>", NumberedPath(image, i, count) },
                                    { "<output_label>", NumberedPath(label, i, count) } });
  }
}

/** Synthesis parameters: defaults, then the preset, then the JSON file, then the flags. */
nsa::SynthesisParameters
GatherParameters(nsa::ProgramContext & program)
{
  nsa::SynthesisParameters parameters;
  if (program.IsSet("preset"))
  {
    parameters = nsa::LoadPreset(program.GetString("preset")).synthesis;
  }
  if (program.IsSet("parameters"))
  {
    const std::string path = program.GetString("parameters");
    nlohmann::json    object = nsa::ReadJsonFile(path);
    if (object.is_object() && object.contains("synthesis"))
    {
      object = object["synthesis"];
    }
    nsa::UpdateFromJson(parameters, object, path + ": synthesis");
  }
  // Flags named after synthesis keys, read from SynthesisParameters::Visit.
  nsa::ApplyParameterFlags(program, parameters, "default");
  return parameters;
}

/** Reads an image of dimension VDimension; a volume is cut to the slice of `axis` (-1: none). */
template <typename TImage>
typename TImage::Pointer
ReadInput(const std::string & path, int axis, int sliceIndex)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  if (axis < 0)
  {
    return nsa::ReadImage<TImage>(path);
  }
  using VolumeType = std::conditional_t<std::is_same<TImage, itk::VectorImage<float, Dimension>>::value,
                                        itk::VectorImage<float, 3>,
                                        itk::Image<typename TImage::PixelType, 3>>;
  auto volume = nsa::ReadImage<VolumeType>(path);
  auto region = volume->GetLargestPossibleRegion();
  auto size = region.GetSize();
  auto index = region.GetIndex();
  const auto slices = static_cast<long>(size[axis]);
  const long slice = sliceIndex < 0 ? slices / 2 : sliceIndex;
  if (slice >= slices)
  {
    throw nsa::ParameterError("--slice_index: " + std::to_string(slice) + " is outside " + path + ", which has " +
                              std::to_string(slices) + " slices across axis " + std::to_string(axis));
  }
  index[axis] += slice;
  size[axis] = 0;
  using ExtractType = itk::ExtractImageFilter<VolumeType, TImage>;
  auto extract = ExtractType::New();
  extract->SetInput(volume);
  extract->SetExtractionRegion(typename VolumeType::RegionType(index, size));
  // The in-plane direction when it is a valid 2D direction, the identity otherwise (a single
  // oblique DICOM slice).
  extract->SetDirectionCollapseToGuess();
  extract->Update();
  typename TImage::Pointer image = extract->GetOutput();
  image->DisconnectPipeline();
  return image;
}

/** Writes a float (vector) image; a .png gets 8-bit values: round(value * scale) clamped to 0..255. */
template <typename TImage>
void
WriteOutput(const TImage * image, const std::string & path, double scale)
{
  if (!EndsWith(path, ".png"))
  {
    nsa::WriteImage(image, path);
    return;
  }
  if (TImage::ImageDimension != 2)
  {
    throw nsa::OutputError(path + ": PNG holds 2D images; use .nii.gz, .nrrd or .mha for volumes");
  }
  const unsigned int components = image->GetNumberOfComponentsPerPixel();
  using ByteImageType = itk::VectorImage<unsigned char, TImage::ImageDimension>;
  auto bytes = ByteImageType::New();
  bytes->CopyInformation(image);
  bytes->SetRegions(image->GetLargestPossibleRegion());
  bytes->SetNumberOfComponentsPerPixel(components);
  bytes->Allocate();
  const auto *    in = image->GetBufferPointer();
  unsigned char * out = bytes->GetBufferPointer();
  const std::size_t count = image->GetLargestPossibleRegion().GetNumberOfPixels() * components;
  for (std::size_t i = 0; i < count; ++i)
  {
    const double value = std::round(static_cast<double>(in[i]) * scale);
    out[i] = static_cast<unsigned char>(std::max(0.0, std::min(255.0, value)));
  }
  nsa::AtomicOutput output(path);
  auto              writer = itk::ImageFileWriter<ByteImageType>::New();
  writer->SetInput(bytes);
  writer->SetFileName(output.TemporaryPath());
  try
  {
    writer->Update();
  }
  catch (const itk::ExceptionObject & error)
  {
    throw nsa::OutputError(path + ": " + error.GetDescription());
  }
  output.Commit();
}

/** The images of a run: the destination, the sources and the masks given on the command line. */
template <typename TImage>
struct SynthesisInputs
{
  using MaskType = itk::Image<unsigned char, TImage::ImageDimension>;

  std::string                             destinationPath;
  typename TImage::Pointer                destination;
  std::vector<std::string>                sourcePaths;
  std::vector<typename TImage::Pointer>   sources;
  typename MaskType::Pointer              destinationMask;
  std::vector<typename MaskType::Pointer> sourceMasks;
};

/** Reads the destination, the sources and their masks (one slice of each when `axis` >= 0),
 * and checks that object_mask "image" has every mask it needs. */
template <typename TImage>
SynthesisInputs<TImage>
ReadSynthesisInputs(nsa::ProgramContext & program, const nsa::SynthesisParameters & parameters, int axis)
{
  using MaskType = typename SynthesisInputs<TImage>::MaskType;
  const int               sliceIndex = program.GetInteger("slice_index");
  SynthesisInputs<TImage> inputs;
  inputs.destinationPath = program.GetString("destination");
  inputs.destination = ReadInput<TImage>(inputs.destinationPath, axis, sliceIndex);
  if (program.IsSet("source"))
  {
    inputs.sourcePaths = program.GetStringVector("source");
  }
  for (const auto & path : inputs.sourcePaths)
  {
    inputs.sources.push_back(ReadInput<TImage>(path, axis, sliceIndex));
  }
  if (program.IsSet("destination_mask"))
  {
    inputs.destinationMask = ReadInput<MaskType>(program.GetString("destination_mask"), axis, sliceIndex);
  }
  if (program.IsSet("source_mask"))
  {
    for (const auto & path : program.GetStringVector("source_mask"))
    {
      inputs.sourceMasks.push_back(ReadInput<MaskType>(path, axis, sliceIndex));
    }
    if (inputs.sourceMasks.size() != inputs.sources.size())
    {
      throw nsa::ParameterError("--source_mask: " + std::to_string(inputs.sourceMasks.size()) + " masks for " +
                                std::to_string(inputs.sources.size()) + " sources; give one mask per source");
    }
  }
  if (parameters.object_mask == nsa::ObjectMask::Image && !inputs.destinationMask)
  {
    throw nsa::ParameterError("object_mask 'image' needs --destination_mask");
  }
  if (parameters.object_mask == nsa::ObjectMask::Image && !inputs.sources.empty() && inputs.sourceMasks.empty())
  {
    throw nsa::ParameterError("object_mask 'image' needs --source_mask for every --source");
  }
  return inputs;
}

/** --calibrate_label: fits the logistic label's k and x0 to the inputs and sets them in
 * `parameters`; returns what the record keeps of the calibration (null without it). */
template <typename TImage>
nlohmann::json
CalibrateLabel(nsa::ProgramContext & program, const SynthesisInputs<TImage> & inputs, nsa::SynthesisParameters & parameters)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  nlohmann::json         calibrationJson = nullptr;
  program.SetReturnValue("calibratedK", 0.0);
  program.SetReturnValue("calibratedX0", 0.0);
  if (program.GetInteger("calibrate_label") <= 0)
  {
    return calibrationJson;
  }
  if constexpr (std::is_same<TImage, itk::Image<float, Dimension>>::value)
  {
    program.Progress().StartStage("Calibrating the label");
    std::vector<typename TImage::Pointer> images{ inputs.destination };
    images.insert(images.end(), inputs.sources.begin(), inputs.sources.end());
    const auto calibration = nsa::CalibrateLogisticLabel<Dimension>(
      images, parameters, nsa::RandomStream(static_cast<std::uint64_t>(program.GetInteger("seed")), 0, 0,
                                            nsa::RandomPurpose::Calibration),
      static_cast<std::size_t>(program.GetInteger("calibrate_label")));
    parameters.logistic_k = calibration.logistic_k;
    parameters.logistic_x0 = calibration.logistic_x0;
    program.SetReturnValue("calibratedK", calibration.logistic_k);
    program.SetReturnValue("calibratedX0", calibration.logistic_x0);
    calibrationJson = { { "samples", calibration.samples },
                        { "voxels", calibration.voxels },
                        { "change_percentile_40", calibration.change_percentile_40 },
                        { "logistic_k", calibration.logistic_k },
                        { "logistic_x0", calibration.logistic_x0 } };
    program.Progress().EndStage();
  }
  else
  {
    throw nsa::ParameterError("--calibrate_label needs single-channel images");
  }
  return calibrationJson;
}

/** The object masks of the destination and of every source, computed once per image, not
 * once per sample (null for object_mask "none"). */
template <typename TImage>
struct ObjectMasks
{
  using MaskType = typename SynthesisInputs<TImage>::MaskType;

  typename MaskType::Pointer              destination;
  std::vector<typename MaskType::Pointer> sources;
};

/** Computes the object masks of all inputs (see ObjectMasks). */
template <typename TImage>
ObjectMasks<TImage>
ComputeObjectMasks(const SynthesisInputs<TImage> & inputs, const nsa::SynthesisParameters & parameters, int threads)
{
  auto maskFilter = itk::NaturalSyntheticAnomalyImageFilter<TImage>::New();
  maskFilter->SetParameters(parameters);
  if (threads > 0)
  {
    maskFilter->SetNumberOfWorkUnits(static_cast<unsigned int>(threads));
  }
  ObjectMasks<TImage> objects;
  objects.destination = maskFilter->ComputeObjectMask(inputs.destination, inputs.destinationMask);
  for (std::size_t s = 0; s < inputs.sources.size(); ++s)
  {
    objects.sources.push_back(
      maskFilter->ComputeObjectMask(inputs.sources[s], inputs.sourceMasks.empty() ? nullptr : inputs.sourceMasks[s]));
  }
  return objects;
}

/** Synthesises sample `i` of `count` (source i modulo the number of sources, the
 * destination itself without sources), writes its image and label, and returns its entry
 * of the record; adds its blended patches to `blended`. */
template <typename TImage>
nlohmann::json
SynthesizeSample(nsa::ProgramContext &            program,
                 const SynthesisInputs<TImage> &  inputs,
                 const ObjectMasks<TImage> &      objects,
                 const nsa::SynthesisParameters & parameters,
                 int                              i,
                 int                              count,
                 int &                            blended)
{
  const int threads = program.GetInteger("threads");
  auto      filter = itk::NaturalSyntheticAnomalyImageFilter<TImage>::New();
  filter->SetDestinationImage(inputs.destination);
  if (objects.destination)
  {
    filter->SetDestinationMask(objects.destination);
  }
  std::string sourcePath = inputs.destinationPath;
  if (!inputs.sources.empty())
  {
    const std::size_t s = static_cast<std::size_t>(i) % inputs.sources.size();
    filter->SetSourceImage(inputs.sources[s]);
    if (objects.sources[s])
    {
      filter->SetSourceMask(objects.sources[s]);
    }
    sourcePath = inputs.sourcePaths[s];
  }
  else if (objects.destination)
  {
    filter->SetSourceMask(objects.destination);
  }
  filter->SetParameters(parameters);
  filter->SetRandomStream(nsa::RandomStream(static_cast<std::uint64_t>(program.GetInteger("seed")), 0,
                                            static_cast<std::uint64_t>(i), nsa::RandomPurpose::Synthesis));
  if (threads > 0)
  {
    filter->SetNumberOfWorkUnits(static_cast<unsigned int>(threads));
  }
  filter->Update();
  const auto & record = filter->GetRecord();
  blended += static_cast<int>(record.NumberOfBlendedPatches());
  nlohmann::json    sample = { { "index", i }, { "source", sourcePath }, { "record", record.ToJson() } };
  const std::string imagePath = NumberedPath(program.GetString("output_image"), i, count);
  const std::string labelPath = NumberedPath(program.GetString("output_label"), i, count);
  WriteOutput(filter->GetOutput(), imagePath, 1.0);
  WriteOutput(filter->GetLabelOutput(), labelPath, 255.0);
  sample["image"] = imagePath;
  sample["label"] = labelPath;
  return sample;
}

template <typename TImage>
void
Synthesize(nsa::ProgramContext & program, nsa::SynthesisParameters parameters, int axis)
{
  const int count = program.GetInteger("count");

  program.Progress().StartStage("Reading");
  const SynthesisInputs<TImage> inputs = ReadSynthesisInputs<TImage>(program, parameters, axis);
  program.Progress().EndStage();

  const nlohmann::json      calibrationJson = CalibrateLabel(program, inputs, parameters);
  const ObjectMasks<TImage> objects = ComputeObjectMasks(inputs, parameters, program.GetInteger("threads"));

  nlohmann::json samples = nlohmann::json::array();
  int            blended = 0;
  program.Progress().StartStage("Synthesis");
  for (int i = 0; i < count; ++i)
  {
    samples.push_back(SynthesizeSample(program, inputs, objects, parameters, i, count, blended));
    program.Progress().Report(static_cast<double>(i + 1) / count);
  }
  program.Progress().EndStage();
  program.SetReturnValue("blendedPatches", blended);

  if (program.IsSet("output_record"))
  {
    nlohmann::json record = { { "program", "NSASynthesize" },
                              { "version", nsa::Version() },
                              { "destination", inputs.destinationPath },
                              { "slice_axis", axis },
                              { "seed", program.GetInteger("seed") },
                              { "synthesis", nsa::ToJson(parameters) },
                              { "calibration", calibrationJson },
                              { "samples", samples } };
    nsa::WriteTextFileAtomically(program.GetString("output_record"), record.dump(2) + "\n");
  }
}

template <unsigned int VDimension>
void
Dispatch(nsa::ProgramContext & program, const nsa::SynthesisParameters & parameters, unsigned int components, int axis)
{
  if (components == 1)
  {
    Synthesize<itk::Image<float, VDimension>>(program, parameters, axis);
  }
  else
  {
    Synthesize<itk::VectorImage<float, VDimension>>(program, parameters, axis);
  }
}

} // namespace

int
main(int argc, char * argv[])
{
  return nsa::RunProgram(NSASynthesizeXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    if (program.GetInteger("threads") > 0)
    {
      itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(program.GetInteger("threads"));
    }
    CheckOutputs(program);
    const nsa::SynthesisParameters parameters = GatherParameters(program);
    const auto info = nsa::ReadImageInfo(program.GetString("destination"));
    int        axis = program.GetInteger("slice_axis");
    unsigned int dimension = info.dimension;
    if (dimension == 3 && info.size.size() == 3 && info.size[2] == 1 && axis < 0)
    {
      axis = 2; // a single slice stored as a volume (one DICOM file, a 2D NIfTI)
    }
    if (axis >= 0)
    {
      if (dimension != 3)
      {
        throw nsa::ParameterError("--slice_axis: " + program.GetString("destination") + " is a " +
                                  std::to_string(dimension) + "D image, not a volume");
      }
      Dispatch<2>(program, parameters, info.components, axis);
    }
    else if (dimension == 2)
    {
      Dispatch<2>(program, parameters, info.components, -1);
    }
    else if (dimension == 3)
    {
      Dispatch<3>(program, parameters, info.components, -1);
    }
    else
    {
      throw nsa::InputError(program.GetString("destination") + ": " + std::to_string(dimension) +
                            "D images are not supported (2D or 3D)");
    }
  });
}
