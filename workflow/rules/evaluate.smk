# NAS-Bench-201: the benchmark look-up of the final cell on all three data sets.


localrules:
    evaluate,


rule evaluate:
    input:
        result=f"{RUN}/result.json",
        table=BENCH_TABLE,
    output:
        evaluation=f"{RUN}/evaluation.json",
    log:
        "logs/{profile}/evaluate/{space}/{method}/{dataset}/seed{seed}.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "python -m isdarts evaluate --run {input.result} --bench {input.table}"
        " --out {output.evaluation} > {log} 2>&1"
