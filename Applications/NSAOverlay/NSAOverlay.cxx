// NSAOverlay: a PNG of a study with a score map or mask overlaid (nsa::WriteOverlayPng).
#include "NSAOverlayXML.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaError.h"
#include "nsaImageIO.h"
#include "nsaOverlay.h"
#include "nsaStudy.h"

int
main(int argc, char * argv[])
{
  return nsa::RunProgram(NSAOverlayXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    nsa::CheckOutputPaths({ { "<inputVolume>", program.GetString("inputVolume") }, { "<map>", program.GetString("map") } },
                          { { "<outputPng>", program.GetString("outputPng") } });
    nsa::OverlayOptions options;
    options.slice = program.GetInteger("slice");
    options.axis = static_cast<unsigned int>(program.GetInteger("axis"));
    options.montage = program.GetBoolean("montage");
    options.montageSlices = static_cast<unsigned int>(program.GetInteger("montage_slices"));
    options.colormap = program.GetString("colormap");
    options.mapRange = program.GetDoubleVector("map_range");
    options.opacity = program.GetDouble("opacity");
    if (program.IsSet("window"))
    {
      options.window = program.GetDoubleVector("window");
    }
    program.Progress().StartStage("Read");
    const nsa::Study study = nsa::ReadStudy(program.GetString("inputVolume"));
    const nsa::Study map = nsa::ReadStudy(program.GetString("map"));
    program.Progress().EndStage();
    program.Progress().StartStage("Write");
    nsa::WriteOverlayPng(study.image.GetPointer(), map.image.GetPointer(), program.GetString("outputPng"), options);
    program.Progress().EndStage();
  });
}
