// Natural Synthetic Anomalies in your own ITK pipeline: read an image, blend patches of it
// into itself with itk::NaturalSyntheticAnomalyImageFilter, write the anomalous image and its
// label. Works on 2D and 3D images (float); see Documentation/Examples/cxx/CMakeLists.txt.
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageIOBase.h"
#include "itkImageIOFactory.h"
#include "itkNaturalSyntheticAnomalyImageFilter.h"

#include <cstdlib>
#include <iostream>
#include <string>

template <unsigned int VDimension>
int
Run(const std::string & input, const std::string & anomalous, const std::string & label, uint64_t seed)
{
  using ImageType = itk::Image<float, VDimension>;
  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetFileName(input);

  // The paper's settings with an Otsu object mask, so that patches come from and land on the
  // object (for brain MRI: the head) rather than the air around it.
  nsa::SynthesisParameters parameters;
  parameters.object_mask = nsa::ObjectMask::Otsu;
  parameters.min_object = 0.7;
  parameters.min_overlap = 0.5;

  using FilterType = itk::NaturalSyntheticAnomalyImageFilter<ImageType>;
  auto filter = FilterType::New();
  filter->SetDestinationImage(reader->GetOutput());
  filter->SetSourceImage(reader->GetOutput()); // the image is its own donor here
  filter->SetParameters(parameters);
  filter->SetSeed(seed);

  auto imageWriter = itk::ImageFileWriter<ImageType>::New();
  imageWriter->SetInput(filter->GetOutput());
  imageWriter->SetFileName(anomalous);
  imageWriter->Update();
  auto labelWriter = itk::ImageFileWriter<ImageType>::New();
  labelWriter->SetInput(filter->GetLabelOutput());
  labelWriter->SetFileName(label);
  labelWriter->Update();

  const auto & record = filter->GetRecord();
  std::cout << "nsa_example_synthesis: " << record.NumberOfBlendedPatches() << " of " << record.patches.size()
            << " patches blended into " << input << '\n';
  return EXIT_SUCCESS;
}

int
main(int argc, char * argv[])
{
  if (argc < 4)
  {
    std::cerr << "usage: " << argv[0] << " input anomalous label [seed]\n";
    return EXIT_FAILURE;
  }
  const uint64_t seed = argc > 4 ? std::stoull(argv[4]) : 0;
  try
  {
    auto io = itk::ImageIOFactory::CreateImageIO(argv[1], itk::ImageIOFactory::IOFileModeEnum::ReadMode);
    if (!io)
    {
      std::cerr << argv[0] << ": cannot read '" << argv[1] << "'\n";
      return EXIT_FAILURE;
    }
    io->SetFileName(argv[1]);
    io->ReadImageInformation();
    return io->GetNumberOfDimensions() == 2 ? Run<2>(argv[1], argv[2], argv[3], seed)
                                            : Run<3>(argv[1], argv[2], argv[3], seed);
  }
  catch (const std::exception & error) // itk::ExceptionObject and nsa::Error
  {
    std::cerr << argv[0] << ": error: " << error.what() << '\n';
    return EXIT_FAILURE;
  }
}
