// NSAInsertLesion: a clearly marked synthetic lesion (an ellipsoid or irregular blob of one of
// several kinds, not the NSA method) in a study, its ground-truth mask and, for DICOM input,
// a derived DICOM series.
#include "NSAInsertLesionXML.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaDicomSeriesWriter.h"
#include "nsaError.h"
#include "nsaImageIO.h"
#include "nsaParameterFlags.h"
#include "nsaStudy.h"
#include "nsaSyntheticLesion.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace
{

/** The lesion's parameters from the command line: every flag that names a key of
 * nsa::SyntheticLesionParameters, read and checked by the structure's own list (its Visit()
 * and Validate()); the description declares the keys' own defaults. */
nsa::SyntheticLesionParameters
LesionParameters(const nsa::ProgramContext & program)
{
  nsa::SyntheticLesionParameters parameters;
  nsa::ApplyParameterFlags(program, parameters);
  parameters.seed = static_cast<std::uint64_t>(program.GetInteger("seed"));
  return parameters;
}

/** Every output checked before any work: none may overwrite the input or another output,
 * and the DICOM series folder never replaces the source or a folder of other files. */
void
CheckOutputs(nsa::ProgramContext & program,
             const std::string &   input,
             const std::string &   outputVolume,
             const std::string &   outputMask)
{
  nsa::CheckOutputPaths({ { "<inputVolume>", input } },
                        { { "<outputVolume>", outputVolume }, { "<outputMask>", outputMask } });
  if (!program.IsSet("dicom_output"))
  {
    return;
  }
  const std::string folder = program.GetString("dicom_output");
  std::error_code   error;
  if (!std::filesystem::is_directory(input, error))
  {
    throw nsa::ParameterError("--dicom_output: the input '" + input +
                              "' is not a DICOM series folder (the derived series copies the files of one)");
  }
  nsa::CheckDerivedSeriesOutput(folder, input);
  for (const std::string & file : { outputVolume, outputMask })
  {
    const auto parent = std::filesystem::weakly_canonical(std::filesystem::absolute(file).parent_path());
    if (nsa::IsSamePath(parent.string(), folder))
    {
      throw nsa::OutputError("'" + file + "' lies in the --dicom_output folder '" + folder +
                             "', which holds the derived series only; write it elsewhere");
    }
  }
}

/** Reads the input study; for a derived DICOM series, checks that it is a series that can
 * be derived from (before the lesion is made). */
nsa::Study
ReadSourceStudy(const std::string & input, bool writeDicom)
{
  nsa::Study study = nsa::ReadStudy(input);
  if (writeDicom && !study.metadata.isDicom)
  {
    throw nsa::ParameterError("--dicom_output: the input '" + input + "' is not a DICOM series");
  }
  if (writeDicom)
  {
    nsa::CheckDerivedSeriesSource(input, study.metadata);
  }
  return study;
}

/** What was made, in words (the log line and the DICOM copy's comments). */
std::string
LesionDescription(const nsa::SyntheticLesionParameters & parameters, const nsa::SyntheticLesion & lesion)
{
  std::ostringstream what;
  if (parameters.kind == nsa::LesionKind::Hyperintense && parameters.shape == nsa::LesionShape::Ellipsoid)
  {
    // The wording of earlier versions (the DICOM copy's comments quote it).
    what << "ellipsoid";
  }
  else
  {
    what << lesion.kind << " " << parameters.shape << " (seed " << parameters.seed << ")";
  }
  what << " centre (" << lesion.centre[0] << ", " << lesion.centre[1] << ", " << lesion.centre[2] << ") mm, radii "
       << parameters.radii[0] << ", " << parameters.radii[1] << ", " << parameters.radii[2] << " mm, edge sigma "
       << parameters.edge_sigma << " mm, core change " << lesion.appliedChange << " (tissue mean "
       << lesion.tissueIntensity << ")";
  if (lesion.kind == nsa::LesionKind::MassEffect)
  {
    what << ", largest displacement " << lesion.appliedDisplacement << " mm";
  }
  return what.str();
}

/** Writes the derived DICOM series of the lesion image into the --dicom_output folder. */
void
WriteLesionSeries(nsa::ProgramContext &        program,
                  const nsa::SyntheticLesion & lesion,
                  const std::string &          input,
                  const nsa::Study &           study,
                  const std::string &          what)
{
  nsa::DerivedSeriesOptions options;
  options.derivationDescription = "SYNTHETIC LESION inserted by NSAInsertLesion (NSA Toolkit): " + what;
  options.imageComments = "SYNTHETIC LESION - NOT A REAL FINDING. " + what;
  const nsa::DerivedSeries series =
    nsa::WriteDerivedDicomSeries(lesion.image, input, study.metadata, program.GetString("dicom_output"), options);
  std::cout << "NSAInsertLesion: DICOM series " << series.seriesInstanceUid << " (" << series.files.size()
            << " files) in " << program.GetString("dicom_output") << '\n';
  if (series.replacedInvalidUids)
  {
    std::cout << "NSAInsertLesion: the source's Study / Frame of Reference UIDs are not valid DICOM UIDs; "
                 "replaced by derived 2.25 UIDs (study "
              << series.studyInstanceUid << ")\n";
  }
  if (series.clippedVoxels > 0)
  {
    std::cout << "NSAInsertLesion: " << series.clippedVoxels
              << " voxels exceeded the stored pixel range of the series and were clipped\n";
  }
}

/** Renames the volume and the mask into place; should that fail, removes the outputs
 * already in place (and the derived series, `dicomFolder` when not empty). */
void
CommitOutputs(nsa::AtomicOutput & volumeOutput,
              nsa::AtomicOutput & maskOutput,
              const std::string & outputVolume,
              const std::string & dicomFolder)
{
  bool volumeCommitted = false;
  try
  {
    volumeOutput.Commit();
    volumeCommitted = true;
    maskOutput.Commit();
  }
  catch (...)
  {
    // Renames within folders written a moment ago; should one still fail, the outputs
    // already in place are removed again (files or a derived series they replaced are gone).
    std::error_code ignored;
    if (volumeCommitted)
    {
      std::filesystem::remove(outputVolume, ignored);
    }
    if (!dicomFolder.empty())
    {
      std::filesystem::remove_all(dicomFolder, ignored);
    }
    throw;
  }
}

/** The return parameters that Slicer shows (NSAInsertLesion.xml). */
void
SetReturnValues(nsa::ProgramContext & program, const nsa::SyntheticLesion & lesion)
{
  program.SetReturnValue("lesionKind", std::string(nsa::ToString(lesion.kind)));
  std::ostringstream centre;
  centre << lesion.centre[0] << "," << lesion.centre[1] << "," << lesion.centre[2];
  program.SetReturnValue("lesionCentre", centre.str());
  program.SetReturnValue("lesionVolume", lesion.maskVolume / 1000.0);
  program.SetReturnValue("tissueIntensity", lesion.tissueIntensity);
  program.SetReturnValue("appliedChange", lesion.appliedChange);
  program.SetReturnValue("appliedDisplacement", lesion.appliedDisplacement);
  program.SetReturnValue("centreDepth", std::isfinite(lesion.centreDepth) ? lesion.centreDepth : -1.0);
}

} // namespace

int
main(int argc, char * argv[])
{
  return nsa::RunProgram(NSAInsertLesionXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    const nsa::SyntheticLesionParameters parameters = LesionParameters(program);
    const bool                           writeDicom = program.IsSet("dicom_output");
    const std::string                    input = program.GetString("inputVolume");
    const std::string                    outputVolume = program.GetString("outputVolume");
    const std::string                    outputMask = program.GetString("outputMask");
    CheckOutputs(program, input, outputVolume, outputMask);

    program.Progress().StartStage("Read");
    const nsa::Study study = ReadSourceStudy(input, writeDicom);
    program.Progress().EndStage();

    program.Progress().StartStage("Lesion");
    const nsa::SyntheticLesion lesion = nsa::InsertSyntheticLesion(study.image, parameters);
    program.Progress().EndStage();

    // All outputs or none: the volume and the mask are written to temporary files, the derived
    // series (which can still be refused: its writer reads the source's instances again) is
    // written next, and only then are the volume and the mask renamed into place. Any failure
    // before that leaves none of the outputs (the temporary files are removed).
    program.Progress().StartStage("Write");
    nsa::AtomicOutput volumeOutput(outputVolume);
    nsa::AtomicOutput maskOutput(outputMask);
    nsa::WriteImage(lesion.image.GetPointer(), volumeOutput.TemporaryPath());
    nsa::WriteImage(lesion.mask.GetPointer(), maskOutput.TemporaryPath());
    const std::string what = LesionDescription(parameters, lesion);
    if (writeDicom)
    {
      WriteLesionSeries(program, lesion, input, study, what);
    }
    CommitOutputs(volumeOutput, maskOutput, outputVolume, writeDicom ? program.GetString("dicom_output") : "");
    program.Progress().EndStage();
    std::cout << "NSAInsertLesion: " << what << ", " << lesion.maskVoxels << " voxels\n";
    SetReturnValues(program, lesion);
  });
}
