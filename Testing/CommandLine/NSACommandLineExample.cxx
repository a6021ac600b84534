// A program that exercises the command-line layer end to end: it echoes every parsed
// parameter as "name = value" into the output file (written atomically), reports progress,
// and sets a return parameter. Tests in this folder check Slicer-style invocations with it.
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaError.h"

#include "NSACommandLineExampleXML.h"

#include <fstream>
#include <sstream>

int
main(int argc, char * argv[])
{
  return nsa::RunProgram(NSACommandLineExampleXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    std::ostringstream echo;
    echo << "inputVolume = " << program.GetString("inputVolume") << "\n";
    echo << "num_patches = " << program.GetInteger("num_patches") << "\n";
    echo << "min_overlap = " << program.GetDouble("min_overlap") << "\n";
    echo << "shift = " << (program.GetBoolean("shift") ? "true" : "false") << "\n";
    double sum = 0.0;
    echo << "width_bounds =";
    for (double value : program.GetDoubleVector("width_bounds"))
    {
      echo << " " << value;
      sum += value;
    }
    echo << "\n";
    echo << "crop = ";
    if (program.IsSet("crop"))
    {
      for (int value : program.GetIntegerVector("crop"))
      {
        echo << value << " ";
      }
    }
    else
    {
      echo << "unset";
    }
    echo << "\n";
    const std::string blendMode = program.GetString("blend_mode");
    if (blendMode != "poisson-source" && blendMode != "poisson-mixed" && blendMode != "swap")
    {
      throw nsa::ParameterError("--blend_mode: '" + blendMode + "' is not one of poisson-source, poisson-mixed, swap");
    }
    echo << "blend_mode = " << blendMode << "\n";
    echo << "preset = " << (program.IsSet("preset") ? program.GetString("preset") : std::string("unset")) << "\n";

    // The output is created before the work and committed after it: a failure midway
    // leaves nothing under the output name.
    nsa::AtomicOutput output(program.GetString("outputVolume"));
    const int         steps = program.GetInteger("steps");
    program.Progress().StartStage("Echo");
    for (int step = 1; step <= steps; ++step)
    {
      program.Progress().Report(static_cast<double>(step) / steps);
      if (program.GetBoolean("fail") && 2 * step >= steps)
      {
        throw nsa::InputError("failing on purpose (--fail)");
      }
    }
    program.Progress().EndStage();
    std::ofstream(output.TemporaryPath()) << echo.str();
    output.Commit();
    program.SetReturnValue("sumOfBounds", sum);
  });
}
