# All runs of the config in one table; mean ± std per space x method x data set beside the
# published rows (config/published.yaml) and the difference to each.


localrules:
    aggregate,


rule aggregate:
    input:
        evaluations=all_evaluations,
        published=PUBLISHED,
    output:
        runs=report(
            f"{REPORT}/runs.csv",
            caption="../report/runs.rst",
            category="NAS-Bench-201",
            subcategory="Tables",
            labels={"table": "runs"},
        ),
        summary=report(
            f"{REPORT}/summary.csv",
            caption="../report/summary.rst",
            category="NAS-Bench-201",
            subcategory="Tables",
            labels={"table": "summary (long)"},
        ),
    log:
        "logs/{profile}/aggregate.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts aggregate {input.evaluations} --published {input.published}"
        " --runs {output.runs} --summary {output.summary} > {log} 2>&1"
