// NSAInsertLesion: a clearly marked synthetic lesion (an ellipsoid or irregular blob of one of
// several kinds, not the NSA method) in a study, its ground-truth mask and, for DICOM input,
// a derived DICOM series.
#include "NSAInsertLesionXML.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaDicomSeriesWriter.h"
#include "nsaError.h"
#include "nsaImageIO.h"
#include "nsaStudy.h"
#include "nsaSyntheticLesion.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <sstream>

int
main(int argc, char * argv[])
{
  return nsa::RunProgram(NSAInsertLesionXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    nsa::SyntheticLesionParameters parameters;
    // The names become enums here, once (the description lists the same names).
    parameters.kind = nsa::FromString<nsa::LesionKind>(program.GetString("kind"));
    parameters.shape = nsa::FromString<nsa::LesionShape>(program.GetString("shape"));
    parameters.placement = nsa::FromString<nsa::LesionPlacement>(program.GetString("placement"));
    parameters.seed = static_cast<std::uint64_t>(program.GetInteger("seed"));
    if (program.IsSet("centre"))
    {
      parameters.centre = program.GetDoubleVector("centre");
    }
    if (program.IsSet("centre_index"))
    {
      parameters.centreIndex = program.GetDoubleVector("centre_index");
    }
    parameters.radii = program.GetDoubleVector("radii");
    parameters.edgeSigma = program.GetDouble("edge_sigma");
    if (program.IsSet("intensity_change"))
    {
      parameters.intensityChange = program.GetDouble("intensity_change");
    }
    if (program.IsSet("intensity_offset"))
    {
      parameters.intensityOffset = program.GetDouble("intensity_offset");
    }
    parameters.cavityFill = program.GetDouble("cavity_fill");
    parameters.blurSigma = program.GetDouble("blur_sigma");
    parameters.noiseLevel = program.GetDouble("noise_level");
    parameters.inversionPercentile = program.GetDouble("inversion_percentile");
    parameters.maxDisplacement = program.GetDouble("max_displacement");
    parameters.displacementThreshold = program.GetDouble("displacement_threshold");
    parameters.irregularity = program.GetDouble("irregularity");
    parameters.deepDistance = program.GetDouble("deep_distance");
    parameters.corticalBand = program.GetDoubleVector("cortical_band");
    const bool writeDicom = program.IsSet("dicom_output");

    // Every output checked before any work: none may overwrite the input or another output,
    // and the DICOM series folder never replaces the source or a folder of other files.
    const std::string input = program.GetString("inputVolume");
    const std::string outputVolume = program.GetString("outputVolume");
    const std::string outputMask = program.GetString("outputMask");
    nsa::CheckOutputPaths({ { "<inputVolume>", input } },
                          { { "<outputVolume>", outputVolume }, { "<outputMask>", outputMask } });
    if (writeDicom)
    {
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

    program.Progress().StartStage("Read");
    const nsa::Study  study = nsa::ReadStudy(input);
    if (writeDicom && !study.metadata.isDicom)
    {
      throw nsa::ParameterError("--dicom_output: the input '" + input + "' is not a DICOM series");
    }
    if (writeDicom)
    {
      nsa::CheckDerivedSeriesSource(input, study.metadata); // before the lesion is made
    }
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
    what << " centre (" << lesion.centre[0] << ", " << lesion.centre[1] << ", " << lesion.centre[2]
         << ") mm, radii " << parameters.radii[0] << ", " << parameters.radii[1] << ", " << parameters.radii[2]
         << " mm, edge sigma " << parameters.edgeSigma << " mm, core change " << lesion.appliedChange
         << " (tissue mean " << lesion.tissueIntensity << ")";
    if (lesion.kind == nsa::LesionKind::MassEffect)
    {
      what << ", largest displacement " << lesion.appliedDisplacement << " mm";
    }
    if (writeDicom)
    {
      nsa::DerivedSeriesOptions options;
      options.derivationDescription = "SYNTHETIC LESION inserted by NSAInsertLesion (NSA Toolkit): " + what.str();
      options.imageComments = "SYNTHETIC LESION - NOT A REAL FINDING. " + what.str();
      const nsa::DerivedSeries series = nsa::WriteDerivedDicomSeries(
        lesion.image, input, study.metadata, program.GetString("dicom_output"), options);
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
      if (writeDicom)
      {
        std::filesystem::remove_all(program.GetString("dicom_output"), ignored);
      }
      throw;
    }
    program.Progress().EndStage();
    std::cout << "NSAInsertLesion: " << what.str() << ", " << lesion.maskVoxels << " voxels\n";

    program.SetReturnValue("lesionKind", std::string(nsa::ToString(lesion.kind)));
    std::ostringstream centre;
    centre << lesion.centre[0] << "," << lesion.centre[1] << "," << lesion.centre[2];
    program.SetReturnValue("lesionCentre", centre.str());
    program.SetReturnValue("lesionVolume", lesion.maskVolume / 1000.0);
    program.SetReturnValue("tissueIntensity", lesion.tissueIntensity);
    program.SetReturnValue("appliedChange", lesion.appliedChange);
    program.SetReturnValue("appliedDisplacement", lesion.appliedDisplacement);
    program.SetReturnValue("centreDepth", std::isfinite(lesion.centreDepth) ? lesion.centreDepth : -1.0);
  });
}
