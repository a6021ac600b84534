#include "nsaStudy.h"

#include "nsaDicomHeaders.h"
#include "nsaImageIO.hxx"

namespace nsa
{

Study
ReadStudy(const std::string & path, const ReadStudyOptions & options)
{
  using ImageType = itk::Image<float, 3>;
  const detail::ResolvedInput input = detail::ResolveInput(path, options.seriesInstanceUid);
  ReadImageOptions            imageOptions;
  imageOptions.allowNonFinite = false;
  imageOptions.seriesInstanceUid = options.seriesInstanceUid;
  imageOptions.requireFullDimension = options.requireVolume;

  Study study;
  study.image = detail::ReadResolvedImage<ImageType>(input, imageOptions);

  StudyMetadata & metadata = study.metadata;
  metadata.sourcePath = path;
  const bool derived = input.derivedImage.IsNotNull();
  metadata.originalDimension = input.isDicomSeries || derived ? 3 : input.io->GetNumberOfDimensions();
  metadata.originalPixelType =
    derived ? "float" : itk::ImageIOBase::GetComponentTypeAsString(input.io->GetComponentType());
  const bool dicom = input.isDicomSeries || derived || std::string(input.io->GetNameOfClass()) == "GDCMImageIO";
  metadata.format = dicom ? "dicom" : input.io->GetNameOfClass();
  metadata.modality = options.modality;
  if (dicom)
  {
    metadata.isDicom = true;
    detail::ReadDicomStudyAttributes(input.files.front(), metadata);
    if (metadata.modality.empty())
    {
      metadata.modality = options.modality;
    }
    metadata.dicom.sopClassUids = input.sopClassUids;
    metadata.dicom.sopInstanceUids = input.sopInstanceUids;
    metadata.dicom.numberOfFrames = input.numberOfFrames;
    metadata.dicom.imagePositions = input.imagePositions;
    if (metadata.dicom.seriesInstanceUid.empty())
    {
      metadata.dicom.seriesInstanceUid = input.seriesInstanceUid;
    }
  }
  return study;
}

} // namespace nsa
