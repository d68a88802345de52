# Reproduction workflow of IS-DARTS (AAAI 2024): searches x seeds -> benchmark look-ups
# (NAS-Bench-201) or final trainings (DARTS space) -> aggregation against the published
# numbers -> figures and reports. The rules live in workflow/rules/; the config is validated
# against isdarts/config/schemas/workflow-config.schema.yaml.
#   snakemake --workflow-profile workflow/profiles/default                 (config/config.yaml)
#   snakemake --workflow-profile workflow/profiles/default --configfile config/darts.yaml
#   snakemake --workflow-profile workflow/profiles/slurm --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/darts.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
