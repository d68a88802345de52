# DARTS space: every found cell and every reference genotype (config `darts_references`) is
# trained from scratch under the same `darts-train-<profile>` budget and seeds; the table puts
# them next to the published DARTS-space rows. As in search.smk, `result.json` is the only
# declared output so that an interrupted training resumes from its checkpoint.


rule train:
    input:
        unpack(train_inputs),
    output:
        result=f"{TRAIN}/result.json",
    log:
        "logs/{profile}/train/{cell}/seed{seed}.log",
    benchmark:
        "results/{profile}/benchmarks/train/{cell}/seed{seed}.tsv"
    conda:
        "../envs/isdarts.yaml"
    threads: train_threads
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        out=lambda wildcards, output: os.path.dirname(output.result),
        data_root=lambda wildcards, input: data_root_of(input.data),
        genotype=train_genotype_arg,
        device=config["device"],
    shell:
        "python -m isdarts train --genotype {params.genotype} --profile {input.profile}"
        " --seed {wildcards.seed} --device {params.device} --data-root {params.data_root}"
        " --out {params.out} > {log} 2>&1"


localrules:
    draw_found_cell,
    draw_reference_cell,
    surrogate,
    darts_aggregate,
    darts_shrink,
    darts_report,


rule draw_found_cell:
    input:
        result=lambda wildcards: found_cell(
            wildcards.profile, wildcards.method, wildcards.seed
        ),
    output:
        png=report(
            f"{DARTS_REPORT}/cells/{{method}}-seed{{seed}}.png",
            caption="../report/cell.rst",
            category="DARTS space",
            subcategory="Cells",
            labels={"cell": "{method}", "seed": "{seed}"},
        ),
    log:
        "logs/{profile}/cells/{method}-seed{seed}.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts genotype {input.result} --plot {output.png}"
        " --title '{wildcards.method}, seed {wildcards.seed}' > {log} 2>&1"


rule draw_reference_cell:
    output:
        png=report(
            f"{DARTS_REPORT}/cells/{{reference}}.png",
            caption="../report/cell.rst",
            category="DARTS space",
            subcategory="Cells",
            labels={"cell": "{reference}", "seed": "published"},
        ),
    log:
        "logs/{profile}/cells/{reference}.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts genotype {wildcards.reference} --plot {output.png} > {log} 2>&1"


# The YAHPO-NB301 surrogate's scores of every found cell and reference genotype, matched to the
# trainings by genotype in darts_aggregate (the report layer runs no model). Without onnxruntime
# or the surrogate files the scores are null and the report shows "–".
rule surrogate:
    input:
        searches=darts_searches,
    output:
        scores=SURROGATE,
    log:
        "logs/{profile}/surrogate.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        references=REFERENCES,
    shell:
        "python -m isdarts surrogate {input.searches} {params.references} --allow-missing"
        " --out {output.scores} > {log} 2>&1"


rule darts_aggregate:
    input:
        trainings=all_trainings,
        searches=darts_searches,
        surrogate=SURROGATE,
        published=PUBLISHED,
    output:
        runs=report(
            f"{DARTS_REPORT}/runs.csv",
            caption="../report/darts_runs.rst",
            category="DARTS space",
            subcategory="Tables",
            labels={"table": "trainings"},
        ),
        summary=report(
            f"{DARTS_REPORT}/summary.csv",
            caption="../report/darts_summary.rst",
            category="DARTS space",
            subcategory="Tables",
            labels={"table": "summary"},
        ),
    log:
        "logs/{profile}/darts_aggregate.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts darts-aggregate {input.trainings} --searches {input.searches}"
        " --surrogate {input.surrogate} --published {input.published}"
        " --runs {output.runs} --summary {output.summary} > {log} 2>&1"


# Which (input, op) pairs each shrink step of the IS-DARTS searches removed, and with what
# scores (read from their logs).
rule darts_shrink:
    input:
        searches=isdarts_darts_searches,
    output:
        csv=f"{DARTS_REPORT}/shrink.csv",
        png=report(
            f"{DARTS_REPORT}/shrink.png",
            caption="../report/shrink.rst",
            category="DARTS space",
            subcategory="Figures",
            labels={"figure": "shrink steps"},
        ),
    log:
        "logs/{profile}/darts_shrink.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts darts-shrink {input.searches} --csv {output.csv}"
        " --png {output.png} > {log} 2>&1"


# The report opens with a verdict and the grid of all cells (found and published, one figure);
# each search's and training's result.json and log.jsonl are copied under runs/ (what the
# report's numbers rest on) and linked from its tables.
rule darts_report:
    input:
        unpack(shrink_inputs),
        runs=f"{DARTS_REPORT}/runs.csv",
        summary=f"{DARTS_REPORT}/summary.csv",
        published=PUBLISHED,
        cells=cell_diagrams,
        trainings=all_trainings,
        searches=darts_searches,
    output:
        readme=f"{DARTS_REPORT}/README.md",
        grid=report(
            f"{DARTS_REPORT}/cells.png",
            caption="../report/darts_cells.rst",
            category="DARTS space",
            subcategory="Figures",
            labels={"figure": "all cells"},
        ),
        run_files=directory(f"{DARTS_REPORT}/runs"),
    log:
        "logs/{profile}/darts_report.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        shrink=lambda wildcards, input: (
            f"--shrink {input.shrink} --shrink-png {input.shrink_png}"
            if "shrink" in input.keys()
            else ""
        ),
    shell:
        "python -m isdarts darts-report --runs {input.runs} --summary {input.summary}"
        " --published {input.published} --cells {input.cells} {params.shrink}"
        " --grid {output.grid} --trainings {input.trainings} --searches {input.searches}"
        " --run-files {output.run_files} --out {output.readme} > {log} 2>&1"
