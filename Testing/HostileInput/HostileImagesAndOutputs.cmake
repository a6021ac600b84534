# Bad-input table, part 1: images read wrong, outputs that destroy data, DICOM objects and
# folders, command-line numbers, manifests (issue 14). One nsa_hostile_case() per case; see
# CMakeLists.txt beside this file for the checks every case gets, and
# Documentation/HostileInput.md for the rules and limits they test.

set(synthesize_outputs @OUT@/anomalous.nii.gz @OUT@/label.nii.gz)

# --- images read wrong: NIfTI checked before ITK repairs or aborts -------------------------
nsa_hostile_case(NiftiGzHeaderOnly SETUP nifti_gz_header_only EXIT 1 MAX_RSS_MB 300
  MESSAGE "holds 0 bytes of voxel data where the header describes 268435456" "truncated"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiGz30Percent SETUP nifti_gz_30_percent EXIT 1 MAX_RSS_MB 300
  MESSAGE "bytes of voxel data where the header describes 128000" "image.nii.gz"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiTruncated SETUP nifti_truncated EXIT 1 MESSAGE "the file is truncated"
  COMMAND NSASynthesize @IN@/image.nii ${synthesize_outputs})
nsa_hostile_case(NiftiGzCorruptCrc SETUP nifti_gz_corrupt_crc EXIT 1
  MESSAGE "compressed data are truncated or corrupt"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanVoxel SETUP nifti_nan_voxel EXIT 1
  MESSAGE "image.nii.gz': voxel [7, 6, 5] is nan (non-finite values are not accepted)"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiInfVoxelFloat64 SETUP nifti_inf_voxel_float64 EXIT 1 MESSAGE "voxel [7, 6, 5] is -inf"
  COMMAND NSAInsertLesion @IN@/image.nii @OUT@/lesion.nii.gz @OUT@/mask.nii.gz)
nsa_hostile_case(NiftiNanVoxelBigEndian SETUP nifti_nan_voxel_big_endian EXIT 1 MESSAGE "voxel [7, 6, 5] is nan"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanVoxelHdrImgPair SETUP nifti_nan_voxel_pair EXIT 1 MESSAGE "voxel [3, 2, 1] is nan"
  COMMAND NSASynthesize @IN@/image.hdr ${synthesize_outputs})
nsa_hostile_case(NiftiHdrImgPairTruncated SETUP nifti_pair_truncated EXIT 1
  MESSAGE "its data file" "image.img' holds 1000 bytes of voxel data"
  COMMAND NSASynthesize @IN@/image.hdr ${synthesize_outputs})
nsa_hostile_case(NiftiNegativeDimension SETUP nifti_negative_dim EXIT 1
  MESSAGE "axis 1 has -20 voxels (dim[2]); every axis needs at least one"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiZeroDimension SETUP nifti_zero_dim EXIT 1 MESSAGE "axis 2 has 0 voxels"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiTooManyAxes SETUP nifti_dim0_too_large EXIT 1 MESSAGE "dim[0] is 9"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanPixdim SETUP nifti_nan_pixdim EXIT 1 MESSAGE "the voxel spacing pixdim[2] is nan"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiZeroPixdim SETUP nifti_zero_pixdim EXIT 1 MESSAGE "pixdim[2] is 0 along an axis of 20 voxels"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanQfac SETUP nifti_nan_pixdim_qform EXIT 1 MESSAGE "pixdim[0] (qfac) is nan"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiInfQoffset SETUP nifti_inf_qoffset EXIT 1 MESSAGE "qoffset_y is inf"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanQuaternion SETUP nifti_nan_quatern EXIT 1 MESSAGE "quatern_b is nan"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanSform SETUP nifti_nan_srow EXIT 1 MESSAGE "srow_y[1] is nan"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiNanVoxOffset SETUP nifti_nan_vox_offset EXIT 1 MESSAGE "vox_offset is nan"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiHugeVoxOffset SETUP nifti_huge_vox_offset EXIT 1 MESSAGE "vox_offset is 3e+38"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiUnknownDatatype SETUP nifti_unknown_datatype EXIT 1 MESSAGE "datatype 77"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(NiftiHugeDimensions SETUP nifti_huge_dims EXIT 1 MAX_RSS_MB 300 MESSAGE "more than 2^62"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs})
nsa_hostile_case(MetaImageNanVoxel SETUP mha_nan_voxel EXIT 1 MESSAGE "voxel [4, 3, 2] is nan"
  COMMAND NSASynthesize @IN@/image.mha ${synthesize_outputs})

# --- outputs that would destroy data: refused before any work ------------------------------
nsa_hostile_case(OutputIsInput SETUP volume EXIT 1
  MESSAGE "<output_image> '" "is the same file as the input <destination>"
  COMMAND NSASynthesize @IN@/image.nii.gz @IN@/image.nii.gz @OUT@/label.nii.gz)
nsa_hostile_case(OutputIsInputRelativePath SETUP volume EXIT 1 MESSAGE "is the same file as the input <destination>"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/../in/./image.nii.gz @OUT@/label.nii.gz)
nsa_hostile_case(OutputIsInputThroughSymlink SETUP volume_symlink_in_out EXIT 1
  MESSAGE "is the same file as the input <destination>"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/link.nii.gz @OUT@/label.nii.gz)
nsa_hostile_case(OutputIsInputThroughHardLink SETUP volume_hardlink_in_out EXIT 1
  MESSAGE "is the same file as the input <destination>"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/hard.nii.gz @OUT@/label.nii.gz)
nsa_hostile_case(LabelIsImage SETUP volume EXIT 1 MESSAGE "<output_label>" "each output needs its own name"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/same.nii.gz @OUT@/same.nii.gz)
nsa_hostile_case(LabelIsImageNumbered SETUP volume EXIT 1 MESSAGE "each output needs its own name"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/same.nii.gz @OUT@/same.nii.gz --count 3)
nsa_hostile_case(RecordIsDestination SETUP volume EXIT 1 MESSAGE "output_record '" "is the same file as the input"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs} --output_record @IN@/image.nii.gz)
nsa_hostile_case(LabelIsSourceMask SETUP volume_and_mask EXIT 1 MESSAGE "is the same file as the input --destination_mask"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/anomalous.nii.gz @IN@/mask.nii.gz --destination_mask @IN@/mask.nii.gz)
nsa_hostile_case(OutputFolderMissing SETUP volume EXIT 1 MESSAGE "output folder '" "/out/missing' does not exist"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@/anomalous.nii.gz @OUT@/missing/label.nii.gz)
nsa_hostile_case(OutputIsFolder SETUP volume EXIT 1 MESSAGE "it is a folder"
  COMMAND NSASynthesize @IN@/image.nii.gz @OUT@ @OUT@/label.nii.gz)
nsa_hostile_case(LesionOutputIsInput SETUP volume EXIT 1 MESSAGE "<outputVolume>" "is the same file as the input <inputVolume>"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @IN@/image.nii.gz @OUT@/mask.nii.gz)
nsa_hostile_case(LesionMaskIsVolume SETUP volume EXIT 1 MESSAGE "each output needs its own name"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @OUT@/lesion.nii.gz @OUT@/lesion.nii.gz)
nsa_hostile_case(LesionMaskFolderMissing SETUP volume EXIT 1 MESSAGE "<outputMask>" "does not exist"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @OUT@/lesion.nii.gz @OUT@/no/mask.nii.gz)
# NSAPredict: the model path does not exist, so a refusal that came after loading the model
# would name the model instead of the output.
nsa_hostile_case(PredictOutputIsInput SETUP volume EXIT 1 MESSAGE "<outputVolume>" "is the same file as the input <inputVolume>"
  COMMAND NSAPredict @IN@/model.pt @IN@/image.nii.gz @IN@/image.nii.gz)
nsa_hostile_case(PredictMaskFolderMissing SETUP volume EXIT 1 MESSAGE "--mask '" "does not exist"
  COMMAND NSAPredict @IN@/model.pt @IN@/image.nii.gz @OUT@/map.nii.gz --mask @OUT@/no/mask.nii.gz)
nsa_hostile_case(PredictSegFolderMissing SETUP volume EXIT 1 MESSAGE "--dicom_seg '" "does not exist"
  COMMAND NSAPredict @IN@/model.pt @IN@/image.nii.gz @OUT@/map.nii.gz --dicom_seg @OUT@/no/seg.dcm)
nsa_hostile_case(PredictPmIsMap SETUP volume EXIT 1 MESSAGE "--dicom_pm '" "each output needs its own name"
  COMMAND NSAPredict @IN@/model.pt @IN@/image.nii.gz @OUT@/map.nii.gz --dicom_pm @OUT@/map.nii.gz)
nsa_hostile_case(PredictFolderModeIntoInputFolder SETUP volume EXIT 1 MESSAGE "is the input folder itself"
  COMMAND NSAPredict @IN@/model.pt @IN@ @IN@/)
nsa_hostile_case(PredictFolderModeInsideInputFolder SETUP volume EXIT 1 MESSAGE "lies inside the input folder"
  COMMAND NSAPredict @IN@/model.pt @IN@ @IN@/maps)

# --- NSAInsertLesion --dicom_output never replaces the source or a folder of other files ----
set(lesion_outputs @OUT@/lesion.nii.gz @OUT@/mask.nii.gz --centre_index 100,110,10 --radii 10,10,6)
nsa_hostile_case(DicomOutputIsSource SETUP dicom_series EXIT 1 MESSAGE "the source series is never replaced"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @IN@/series)
nsa_hostile_case(DicomOutputIsSourceTrailingSlash SETUP dicom_series EXIT 1 MESSAGE "is (or holds) the source"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @IN@/series/)
nsa_hostile_case(DicomOutputHoldsSource SETUP dicom_series EXIT 1 MESSAGE "is (or holds) the source"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @IN@)
nsa_hostile_case(DicomOutputInsideSource SETUP dicom_series EXIT 1 MESSAGE "lies inside the source folder"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @IN@/series/derived)
nsa_hostile_case(DicomOutputForeignFolder SETUP dicom_series_and_other_folder EXIT 1
  MESSAGE "is not empty, and it is not a series this toolkit wrote"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @OUT@/results)
nsa_hostile_case(DicomOutputDcmOnlyFolder SETUP dicom_series_dcm_only_folder EXIT 1 MESSAGE "no .nsa-derived-series in it"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @OUT@/old)
nsa_hostile_case(DicomOutputHoldsVolume SETUP dicom_series_empty_output EXIT 1 MESSAGE "holds the derived series only"
  COMMAND NSAInsertLesion @IN@/series @OUT@/derived/lesion.nii.gz @OUT@/mask.nii.gz --dicom_output @OUT@/derived)
nsa_hostile_case(DicomOutputWritesMarker SETUP dicom_series EXIT 0 ALLOW_OUTPUT MESSAGE "20 files"
  PRESENT out/derived/.nsa-derived-series out/derived/IM0020.dcm
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs} --dicom_output @OUT@/derived)
# All outputs or none: a derived series that cannot be written leaves neither the lesioned
# volume nor the mask (they were written before the series and left behind). A single DICOM
# file is refused before any work; a series in a sub-folder of the input is read, but the
# series writer copies only the instances at the top of the folder, so it fails after the
# volume and the mask were made.
nsa_hostile_case(DicomOutputFromSingleFile SETUP dicom_single_file EXIT 1 TIMEOUT 30
  MESSAGE "--dicom_output: the input '" "image.dcm' is not a DICOM series folder"
  COMMAND NSAInsertLesion @IN@/image.dcm @OUT@/lesion.nii.gz @OUT@/mask.nii.gz --radii 3,3,1 --dicom_output @OUT@/derived)
nsa_hostile_case(DicomOutputFailsNoVolumeLeft SETUP dicom_series_in_subfolder EXIT 1
  MESSAGE "of the source series is not in '" "outer'"
  ABSENT out/lesion.nii.gz out/mask.nii.gz out/derived
  COMMAND NSAInsertLesion @IN@/outer ${lesion_outputs} --dicom_output @OUT@/derived)

# --- temporary files of a killed run are removed by the next one (same host, process gone) --
nsa_hostile_case(StaleTemporaryRemoved SETUP volume_stale_temporary EXIT 0 ALLOW_OUTPUT
  ABSENT "out/.nsa-tmp-@HOST@@*-anomalous.nii.gz" PRESENT "out/.nsa-tmp-otherhost@*-0-anomalous.nii.gz"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs} --seed 3)

# --- DICOM SEG with a frame moved far away or to a non-finite position ---------------------
nsa_hostile_case(SegFrame40MetresAway SETUP seg_frame_40_m_away EXIT 1 MAX_RSS_MB 300 FIXTURES IODicomObjects
  MESSAGE "seg.dcm': its frames lie" "more than the limit of 3000 mm"
  COMMAND NSASynthesize @IN@/seg.dcm ${synthesize_outputs})
nsa_hostile_case(SegFrameNanPosition SETUP seg_frame_nan_position EXIT 1 MAX_RSS_MB 300 FIXTURES IODicomObjects
  MESSAGE "seg.dcm'" "Image Position (Patient)"
  COMMAND NSASynthesize @IN@/seg.dcm ${synthesize_outputs})
nsa_hostile_case(SegFrameInfinitePosition SETUP seg_frame_inf_position EXIT 1 MAX_RSS_MB 300 FIXTURES IODicomObjects
  MESSAGE "seg.dcm'" "Image Position (Patient)"
  COMMAND NSASynthesize @IN@/seg.dcm ${synthesize_outputs})

# --- DICOM folders: links are not followed, nesting is bounded -----------------------------
nsa_hostile_case(DicomFolderWithLinksToParentAndSelf SETUP dicom_series_parent_link EXIT 0 ALLOW_OUTPUT TIMEOUT 60
  MAX_RSS_MB 1024 MESSAGE "lesionVolume"
  COMMAND NSAInsertLesion @IN@/series ${lesion_outputs})
nsa_hostile_case(DicomFolderTooDeep SETUP dicom_deep_folders EXIT 1 MESSAGE "nested more than 32 levels deep"
  COMMAND NSASynthesize @IN@/deep ${synthesize_outputs})

# --- command-line numbers: range-checked, never truncated ----------------------------------
nsa_hostile_case(SliceOverflow SETUP volume EXIT 2 MESSAGE "--slice: expected an integer from -2147483648 to 2147483647, got '4294967299'"
  COMMAND NSAOverlay @IN@/image.nii.gz @IN@/image.nii.gz @OUT@/overlay.png --slice 4294967299)
nsa_hostile_case(ThreadsOverflow SETUP volume EXIT 2 MESSAGE "--threads: expected an integer" "'4294967297'"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs} --threads 4294967297)
nsa_hostile_case(PredictThreadsOutOfRange SETUP volume EXIT 2 MESSAGE "--threads: 100000 is out of range [0, 1024]"
  COMMAND NSAPredict @IN@/model.pt @IN@/image.nii.gz @OUT@/map.nii.gz --threads 100000)
# --device: a drop-down of the programs' descriptions (model/default, auto, cpu, cuda,
# cuda:0..7), so a huge cuda:N is a usage error before any work; a preset's or model file's
# cuda:N is checked digit by digit (N 0 to 127; std::stoi said only "stoi" when N overflowed
# an int), unit test Core.DeviceName.IndexAndFlagName.
nsa_hostile_case(PredictDeviceIndexOverflow SETUP volume EXIT 2
  MESSAGE "--device: 'cuda:99999999999' is not one of model, auto, cpu, cuda, cuda:0"
  COMMAND NSAPredict @IN@/model.pt @IN@/image.nii.gz @OUT@/map.nii.gz --device cuda:99999999999)
nsa_hostile_case(TrainDeviceIndexOutOfRange SETUP volume EXIT 2
  MESSAGE "--device: 'cuda:128' is not one of default, auto, cpu, cuda, cuda:0"
  COMMAND NSATrain --images @IN@ --device cuda:128 @OUT@/model.pt)
nsa_hostile_case(EvaluateDeviceIndexOverflow SETUP volume EXIT 2
  MESSAGE "--device: 'cuda:4294967296' is not one of model, auto, cpu, cuda, cuda:0"
  COMMAND NSAEvaluate --manifest @IN@/cohort.csv --model @IN@/model.pt --output @OUT@/report --device cuda:4294967296)
nsa_hostile_case(SeedTrailingJunk SETUP volume EXIT 2 MESSAGE "--seed: expected an integer" "'12abc'"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs} --seed 12abc)
nsa_hostile_case(CountNotInteger SETUP volume EXIT 2 MESSAGE "--count: expected an integer"
  COMMAND NSASynthesize @IN@/image.nii.gz ${synthesize_outputs} --count 1.5)
nsa_hostile_case(EdgeSigmaNan SETUP volume EXIT 2 MESSAGE "--edge_sigma: expected a finite number, got 'nan'"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @OUT@/lesion.nii.gz @OUT@/mask.nii.gz --edge_sigma nan)
nsa_hostile_case(RadiusInfinite SETUP volume EXIT 2 MESSAGE "--radii: expected a finite number, got 'inf'"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @OUT@/lesion.nii.gz @OUT@/mask.nii.gz --radii 1,inf,2)
nsa_hostile_case(ChangeOverflow SETUP volume EXIT 2 MESSAGE "--intensity_change: expected a finite number, got '1e400'"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @OUT@/lesion.nii.gz @OUT@/mask.nii.gz --intensity_change 1e400)
nsa_hostile_case(CentreHexadecimal SETUP volume EXIT 2 MESSAGE "--centre: expected a finite number, got '0x10'"
  COMMAND NSAInsertLesion @IN@/image.nii.gz @OUT@/lesion.nii.gz @OUT@/mask.nii.gz --centre 0x10,0,0)
nsa_hostile_case(OpacityTrailingJunk SETUP volume EXIT 2 MESSAGE "--opacity: expected a finite number, got '0.5x'"
  COMMAND NSAOverlay @IN@/image.nii.gz @IN@/image.nii.gz @OUT@/overlay.png --opacity 0.5x)

# --- manifests: refused before any work and before the output folder is made ---------------
set(evaluate_arguments --manifest @IN@/cohort.csv --predictions @IN@/predictions --output @OUT@/report)
nsa_hostile_case(ManifestWithoutRows SETUP manifest_no_rows EXIT 1 MESSAGE "has a header but no case rows"
  COMMAND NSAEvaluate ${evaluate_arguments})
nsa_hostile_case(ManifestNotUtf8 SETUP manifest_not_utf8 EXIT 1 MESSAGE "line 3, byte 4: not valid UTF-8"
  COMMAND NSAEvaluate ${evaluate_arguments})
nsa_hostile_case(ManifestHashCaseId SETUP manifest_hash_id EXIT 1 MESSAGE "case #12: no prediction"
  COMMAND NSAEvaluate ${evaluate_arguments})

# --- NSATrain: the model and the files beside it may not be an input -----------------------
nsa_hostile_case(TrainModelIsPreset SETUP volume EXIT 1 MESSAGE "<model> '" "is the same file as the input --preset"
  COMMAND NSATrain --images @IN@ --preset @IN@/image.nii.gz @IN@/image.nii.gz)
nsa_hostile_case(TrainModelFolderMissing SETUP volume EXIT 1 MESSAGE "<model> '" "does not exist"
  COMMAND NSATrain --images @IN@ @OUT@/no/model.pt)
