#ifndef nsaFuzzTargets_h
#define nsaFuzzTargets_h

#include <cstddef>
#include <cstdint>
#include <string>

namespace nsa::fuzz
{

/** One fuzz target: reads `data` the way a program reads a file of that kind. A clean
 * refusal is an exception (nsa::Error, itk::ExceptionObject or another std::exception, never
 * std::bad_alloc); a crash, a sanitizer report, an out-of-memory or a hang is a finding. */
using Target = void (*)(const std::uint8_t * data, std::size_t size);

/** JSON parameters and presets: nsa::ParseJsonText, then every parameter section. */
void
JsonParameters(const std::uint8_t * data, std::size_t size);
/** Cohort manifests: nsa::ParseManifest (files not checked). */
void
Manifest(const std::uint8_t * data, std::size_t size);
/** Model files and state dicts. First byte 0: the rest is a whole file, read as a state dict
 * (loaded into the brain-mri-2d network: 2D, width 0.25, one channel) and as an NSA model
 * file. Otherwise: the rest is the data.pkl of a state dict, wrapped in a valid zip archive
 * (correct CRCs) with storages data/0..data/63 of 64 zero bytes each, so that mutations reach
 * the pickle reader instead of stopping at the CRC check. */
void
ModelFiles(const std::uint8_t * data, std::size_t size);
/** A whole state dict file loaded into the brain-mri-2d network (NSAFuzzReplay --check
 * state_dict: the bad-input table's state-dict cases). */
void
StateDictFile(const std::uint8_t * data, std::size_t size);
/** Partial evaluation results (NSAEvaluate --shard files): CohortEvaluation::ReadPartial. */
void
Shard(const std::uint8_t * data, std::size_t size);
/** DICOM Segmentation and Parametric Map files: ReadDicomSegmentation, ReadParametricMap. */
void
DicomSegPm(const std::uint8_t * data, std::size_t size);

/** The target of a name ("json_parameters", "manifest", "model", "shard", "seg_pm",
 * "state_dict"), or nullptr. */
Target
FindTarget(const std::string & name);

/** Names of all targets, space-separated. */
const char *
TargetNames();

} // namespace nsa::fuzz

#endif
