# Figures from the per-epoch logs and the Markdown report (reports/<profile>/README.md), with
# its verdict and table as an HTML page (the Snakemake report's first item), the table as a
# wide CSV ("mean ± std" text) and a LaTeX tabular for a paper, and each run's result.json and
# log.jsonl under runs/ (what the report's numbers rest on).
# The logs are read from beside each result.json (see search.smk for why they are undeclared).


localrules:
    figures,
    report,
    scale_report,


rule figures:
    input:
        results=all_results,
        published=PUBLISHED,
    output:
        accuracy=report(
            f"{REPORT}/figures/accuracy.png",
            caption="../report/accuracy.rst",
            category="NAS-Bench-201",
            subcategory="Figures",
            labels={"figure": "accuracy"},
        ),
        ops=report(
            f"{REPORT}/figures/ops.png",
            caption="../report/ops.rst",
            category="NAS-Bench-201",
            subcategory="Figures",
            labels={"figure": "ops"},
        ),
        importance=report(
            f"{REPORT}/figures/importance.png",
            caption="../report/importance.rst",
            category="NAS-Bench-201",
            subcategory="Figures",
            labels={"figure": "importance"},
        ),
        alphas=report(
            f"{REPORT}/figures/alphas.png",
            caption="../report/alphas.rst",
            category="NAS-Bench-201",
            subcategory="Figures",
            labels={"figure": "alphas"},
        ),
    log:
        "logs/{profile}/figures.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python -m isdarts figures {input.results} --published {input.published}"
        " --accuracy {output.accuracy} --ops {output.ops} --importance {output.importance}"
        " --alphas {output.alphas}"
        " > {log} 2>&1"


rule report:
    input:
        results=all_results,
        runs=f"{REPORT}/runs.csv",
        summary=f"{REPORT}/summary.csv",
        published=PUBLISHED,
        criteria=CRITERIA,
        figures=expand(
            f"{REPORT}/figures/{{name}}.png", name=FIGURES, allow_missing=True
        ),
    output:
        readme=f"{REPORT}/README.md",
        run_files=directory(f"{REPORT}/runs"),
        page=report(
            f"{REPORT}/table.html",
            caption="../report/table.rst",
            category="NAS-Bench-201",
            subcategory="Results",
            labels={"table": "verdict and table"},
        ),
        wide=report(
            f"{REPORT}/summary_wide.csv",
            caption="../report/wide.rst",
            category="NAS-Bench-201",
            subcategory="Tables",
            labels={"table": "wide CSV (mean ± std)"},
        ),
        tex=report(
            f"{REPORT}/table.tex",
            caption="../report/wide.rst",
            category="NAS-Bench-201",
            subcategory="Tables",
            labels={"table": "LaTeX tabular"},
        ),
    log:
        "logs/{profile}/report.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts report --runs {input.runs} --summary {input.summary}"
        " --published {input.published} --criteria {input.criteria}"
        " --figures {input.figures} --out {output.readme}"
        " --wide {output.wide} --tex {output.tex} --html {output.page}"
        " --results {input.results} --run-files {output.run_files} > {log} 2>&1"


# The scale study (config `profile` a list): every rung's runs side by side.
rule scale_report:
    input:
        runs=[f"{REPORT.format(profile=p)}/runs.csv" for p in PROFILES],
        profiles=[run_profile_file(p) for p in PROFILES],
        published=PUBLISHED,
        criteria=CRITERIA,
    output:
        readme=f"{SCALE_REPORT}/README.md",
        table=report(
            f"{SCALE_REPORT}/scale.csv",
            caption="../report/scale.rst",
            category="Scale study",
            labels={"table": "every run of every rung"},
        ),
        png=report(
            f"{SCALE_REPORT}/scale.png",
            caption="../report/scale.rst",
            category="Scale study",
            labels={"figure": "accuracy against compute"},
        ),
    log:
        f"logs/{STUDY}-report.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        out=lambda wildcards, output: Path(output.readme).parent,
        study="regime" if STUDY == "regime" else "scale",
    shell:
        "python -m isdarts scale-report --runs {input.runs} --profiles {input.profiles}"
        " --published {input.published} --criteria {input.criteria} --study {params.study}"
        " --out {params.out} > {log} 2>&1"
